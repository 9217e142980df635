//! Region names the AWS SDK knows, so that a typo (`us-east-99`) is an
//! error naming the region before anything runs, instead of whatever an
//! endpoint that does not exist answers ("error parsing XML").
//!
//! The list is the `regions` of every partition in the endpoint rules of
//! the SDK crates this build uses (aws-sdk-sts and aws-sdk-cloudformation
//! embed the same partitions document), without the `*-global` pseudo
//! regions. The SDK keeps that document private; when the SDK is updated,
//! refresh this list from `src/endpoint_lib.rs` of aws-sdk-sts.

/// Every region of the SDK's partitions (aws, aws-cn, aws-eusc, aws-iso,
/// aws-iso-b, aws-iso-e, aws-iso-f, aws-us-gov), sorted.
pub const KNOWN_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-isoe-west-1",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eusc-de-east-1",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-iso-east-1",
    "us-iso-west-1",
    "us-isob-east-1",
    "us-isob-west-1",
    "us-isof-east-1",
    "us-isof-south-1",
    "us-west-1",
    "us-west-2",
];

/// Whether `region` is a region of the SDK's partitions.
pub fn is_known_region(region: &str) -> bool {
    KNOWN_REGIONS.binary_search(&region).is_ok()
}

/// `Err(message)` naming the region when it is not one the SDK knows; the
/// message suggests the nearest known name.
pub fn check_region(region: &str) -> Result<(), String> {
    if is_known_region(region) {
        return Ok(());
    }
    let nearest = KNOWN_REGIONS
        .iter()
        .map(|known| (edit_distance(region, known), *known))
        .min()
        .filter(|(distance, _)| *distance <= 3)
        .map(|(_, known)| format!(" (did you mean `{known}`?)"))
        .unwrap_or_default();
    Err(format!("`{region}` is not an AWS region{nearest}"))
}

/// Levenshtein distance, for suggestions between short names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_for_binary_search() {
        let mut sorted = KNOWN_REGIONS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, KNOWN_REGIONS);
    }

    #[test]
    fn known_and_unknown_regions() {
        assert!(check_region("us-east-1").is_ok());
        assert!(check_region("eu-west-3").is_ok());
        assert!(check_region("us-gov-west-1").is_ok());
        assert_eq!(
            check_region("us-east-99").unwrap_err(),
            "`us-east-99` is not an AWS region (did you mean `us-east-1`?)"
        );
        assert_eq!(
            check_region("narnia").unwrap_err(),
            "`narnia` is not an AWS region"
        );
        assert!(check_region("aws-global").is_err());
    }
}
