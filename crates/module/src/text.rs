//! Text fit for a terminal.
//!
//! Values that come from a playbook, a template, a variable or AWS may
//! hold newlines, carriage returns or escape sequences: printed as they
//! are, they could forge lines that look like runbook's own (`changed
//! FAKE STACK DELETED [prod ...]`), erase lines, or change the terminal's
//! state. [`printable`] is the one escaping function every printer uses.
//!
//! The rule: runbook composes its own lines and messages (some messages
//! span several lines on purpose: a failure and its reasons); every value
//! from outside is made printable before it is composed into them, and
//! printers escape each line they print once more, which changes nothing
//! in text already printable. So a newline inside a value shows as `\n`,
//! as Ansible shows it in a JSON-encoded `msg`, and never starts a line.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether a character must not reach a terminal as it is: control
/// characters (C0, DEL, C1: newlines, escape sequences, backspace, bell),
/// Unicode line and paragraph separators, and the bidirectional controls
/// that reorder what is shown ("Trojan Source").
pub fn is_unprintable(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with every unprintable character escaped: `\n`, `\r`, `\t`, `\0`,
/// `\x1b` (ESC) and other `\xNN` below U+0100, `\u{NNNN}` above. Backslashes
/// are left alone, so escaping twice changes nothing.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unprintable) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if is_unprintable(c) && (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_unprintable(c) => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// How many columns a character takes once made printable: its escape's
/// length, or 1 (for lining up a caret under printed text).
pub fn printable_width(c: char) -> usize {
    if is_unprintable(c) {
        printable(c.encode_utf8(&mut [0; 4])).chars().count()
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_the_rest_kept() {
        assert!(matches!(printable("plain – ok ✓"), Cow::Borrowed(_)));
        assert_eq!(
            printable("a\nchanged  FAKE STACK DELETED\r\x1b[2K\x07\t\0"),
            "a\\nchanged  FAKE STACK DELETED\\r\\x1b[2K\\x07\\t\\0"
        );
        assert_eq!(printable("\u{9b}31m \u{7f}"), "\\x9b31m \\x7f");
        assert_eq!(printable("x\u{202e}y\u{2028}z"), "x\\u{202e}y\\u{2028}z");
        // Already printable text is left as it is.
        let once = printable("a\nb\\n");
        assert_eq!(printable(&once), once);
        assert_eq!(printable_width('\x1b'), 4);
        assert_eq!(printable_width('é'), 1);
    }
}
