/// Why a template could not be parsed or rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("template syntax error: {message}")]
    Syntax { message: String },
    #[error("undefined variable `{name}`")]
    Undefined { name: String },
    #[error("{message}")]
    Render { message: String },
    #[error("variable `{name}` refers to itself: {}", chain.join(" -> "))]
    Recursive { name: String, chain: Vec<String> },
}

impl TemplateError {
    pub(crate) fn from_minijinja(err: &minijinja::Error) -> Self {
        use minijinja::ErrorKind;
        let mut message = match err.detail() {
            Some(detail) => format!("{}: {detail}", kind_text(err.kind())),
            None => kind_text(err.kind()).to_string(),
        };
        // A filter or lookup error carries its own cause; show it.
        let mut source = std::error::Error::source(err);
        while let Some(cause) = source {
            message.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        match err.kind() {
            ErrorKind::SyntaxError | ErrorKind::BadEscape => TemplateError::Syntax { message },
            _ => TemplateError::Render { message },
        }
    }
}

fn kind_text(kind: minijinja::ErrorKind) -> &'static str {
    use minijinja::ErrorKind::*;
    match kind {
        SyntaxError => "syntax error",
        UndefinedError => "undefined value",
        UnknownFilter => "unknown filter",
        UnknownTest => "unknown test",
        UnknownFunction => "unknown function",
        InvalidOperation => "invalid operation",
        MissingArgument => "missing argument",
        TooManyArguments => "too many arguments",
        BadSerialization => "value cannot be converted",
        _ => "template error",
    }
}
