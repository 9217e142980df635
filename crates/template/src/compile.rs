//! Compiling and running templates the way Ansible's Jinja runs them.
//!
//! minijinja is used through its `unstable_machinery` for two things its
//! stable API cannot do:
//!
//! - **Ordering comparisons as Python's.** minijinja orders any two values
//!   (`'1' > 20` is true: strings sort after numbers), where Python raises
//!   `TypeError: '>' not supported between instances of 'str' and 'int'`.
//!   After minijinja compiles a template, each ordering instruction (`Lt`,
//!   `Lte`, `Gt`, `Gte`, and the chained-comparison form) is swapped for a
//!   call of a hidden filter that compares as Python does ([`crate::compare`]).
//!   Parsing, code generation, spans and fuel stay minijinja's own; only
//!   those instructions change. This is why the minijinja version is pinned
//!   exactly: the instruction set is not a stable interface.
//! - **Backslashes in string literals as Ansible leaves them.** Ansible
//!   escapes backslashes in string constants inside `{{ }}` before Jinja
//!   reads them (its `escape_backslashes`, on for task options and
//!   variables), so `regex_replace('(\d+)', '\1')` gets `\1`, not a control
//!   character. [`Prepared`] does the same, and maps error positions back.

use std::borrow::Cow;
use std::collections::BTreeMap;

use minijinja::machinery::{
    self, ast, get_compiled_template, make_string_output, tokenize, CodeGenerator, Instruction,
    Instructions, Span, Token,
};
use minijinja::{Environment, Error, Value};

use crate::compare::{CHAINED, ORDERING};

/// Template text with Ansible's backslash escaping applied.
pub(crate) struct Prepared<'a> {
    pub(crate) text: Cow<'a, str>,
    /// Offsets (in `text`) of the backslashes that were added.
    added: Vec<usize>,
    /// An expression, which [`eval`] compiles inside `{{ }}`.
    expression: bool,
}

impl<'a> Prepared<'a> {
    /// `expression`: `source` is the inside of `{{ }}` (or a bare
    /// condition) rather than a template. `escape`: whether to double the
    /// backslashes of string constants inside `{{ }}`.
    pub(crate) fn new(
        env: &Environment<'_>,
        source: &'a str,
        expression: bool,
        escape: bool,
    ) -> Prepared<'a> {
        let unchanged = Prepared {
            text: Cow::Borrowed(source),
            added: Vec::new(),
            expression,
        };
        if !escape || !source.contains('\\') {
            return unchanged;
        }
        let mut strings = Vec::new();
        let mut in_variable = expression;
        for token in tokenize(source, expression, env.syntax().clone()) {
            // A source that does not lex is left as it is; compiling it
            // reports the error.
            let Ok((token, span)) = token else {
                return unchanged;
            };
            match token {
                Token::VariableStart => in_variable = true,
                Token::VariableEnd => in_variable = false,
                Token::Str(_) | Token::String(_) if in_variable => {
                    strings.push(span.start_offset as usize..span.end_offset as usize)
                }
                _ => {}
            }
        }
        if strings.is_empty() {
            return unchanged;
        }
        let mut text = String::with_capacity(source.len() + 8);
        let mut added = Vec::new();
        let mut done = 0;
        for range in strings {
            text.push_str(&source[done..range.start]);
            for c in source[range.clone()].chars() {
                if c == '\\' {
                    added.push(text.len());
                    text.push('\\');
                }
                text.push(c);
            }
            done = range.end;
        }
        text.push_str(&source[done..]);
        Prepared {
            text: Cow::Owned(text),
            added,
            expression,
        }
    }

    /// The offset in the original source of an offset in what was
    /// compiled.
    pub(crate) fn original(&self, offset: usize) -> usize {
        let offset = if self.expression {
            offset.saturating_sub(EXPRESSION_START.len())
        } else {
            offset
        };
        offset - self.added.partition_point(|a| *a < offset)
    }

    pub(crate) fn original_range(&self, err: &Error) -> Option<std::ops::Range<usize>> {
        let range = err.range()?;
        Some(self.original(range.start)..self.original(range.end))
    }
}

/// What the formatter saw of the `{{ }}` a render wrote out.
#[derive(Debug, Clone, Default)]
pub(crate) struct Emissions {
    pub(crate) count: usize,
    pub(crate) last: Option<Value>,
}

/// Renders a template to text, with what it wrote out through `{{ }}`.
pub(crate) fn render(
    env: &Environment<'_>,
    source: &str,
    root: Value,
) -> Result<(String, Option<Emissions>), Error> {
    let template = env.template_from_str(source)?;
    let compiled = get_compiled_template(&template);
    let instructions = python_comparisons(env, &compiled.instructions);
    let blocks: BTreeMap<_, _> = compiled
        .blocks
        .iter()
        .map(|(name, block)| (*name, python_comparisons(env, block)))
        .collect();
    let mut rendered = String::with_capacity(compiled.buffer_size_hint);
    let mut out = make_string_output(&mut rendered);
    let (_, state) = machinery::eval(
        env,
        &instructions,
        root,
        &blocks,
        &mut out,
        compiled.initial_auto_escape.clone(),
    )?;
    let emissions = state.get_extension::<Emissions>().cloned();
    drop(state);
    drop(out);
    Ok((rendered, emissions))
}

/// What [`eval`] puts before an expression to compile it.
const EXPRESSION_START: &str = "{{ ";

/// Evaluates a bare expression to its value. Error ranges are in
/// `{{ expr }}`: see [`Prepared::original`].
pub(crate) fn eval(env: &Environment<'_>, expr: &str, root: Value) -> Result<Value, Error> {
    // Compiled as the expression of a template, whose parser records
    // spans (a bare expression's does not), then evaluated as one.
    let wrapped = format!("{EXPRESSION_START}{expr} }}}}");
    let ast = machinery::parse(&wrapped, "<expression>", env.syntax().clone())?;
    let expr = match &ast {
        ast::Stmt::Template(template) => match template.children.as_slice() {
            [ast::Stmt::EmitExpr(emit)] => &emit.expr,
            _ => return Err(not_an_expression()),
        },
        _ => return Err(not_an_expression()),
    };
    let mut generator = CodeGenerator::new("<expression>", &wrapped);
    generator.compile_expr(expr);
    let instructions = python_comparisons(env, &generator.finish().0);
    let mut discarded = String::new();
    let mut out = make_string_output(&mut discarded);
    let (value, _) = machinery::eval(
        env,
        &instructions,
        root,
        &BTreeMap::new(),
        &mut out,
        minijinja::AutoEscape::None,
    )?;
    Ok(value.unwrap_or(Value::UNDEFINED))
}

fn not_an_expression() -> Error {
    Error::new(minijinja::ErrorKind::SyntaxError, "expected one expression")
}

/// A copy of `code` whose ordering comparisons go through the hidden
/// comparison filters. A chained comparison (`a < b < c`) keeps its right
/// operand for the next link: its instruction becomes three (pack both
/// operands, compare, unpack), so every jump target is moved to match.
///
/// minijinja's parser starts a comparison's span one token early (at the
/// `{{`, `(` or `and` before it); comparison instructions get the span
/// from their left operand on, so errors point at the comparison itself.
fn python_comparisons<'s>(env: &Environment<'_>, code: &Instructions<'s>) -> Instructions<'s> {
    let count = (0..).take_while(|i| code.get(*i).is_some()).count() as u32;
    let width = |instr: &Instruction<'_>| match instr {
        Instruction::CompareAndPreserve(op) if chained_filter(*op).is_some() => 3,
        _ => 1,
    };
    let mut moved = Vec::with_capacity(count as usize + 1);
    let mut next = 0u32;
    for i in 0..count {
        moved.push(next);
        next += width(code.get(i).expect("counted"));
    }
    moved.push(next);
    let at = |target: u32| moved.get(target as usize).copied().unwrap_or(target);

    let mut token_starts: Option<Vec<Span>> = None;
    let mut patched = Instructions::new(code.name(), code.source());
    for i in 0..count {
        let instr = code.get(i).expect("counted");
        let mut span = code.get_span(i);
        if is_comparison(instr) {
            let starts = token_starts.get_or_insert_with(|| {
                tokenize(code.source(), false, env.syntax().clone())
                    .map_while(Result::ok)
                    .map(|(_, span)| span)
                    .collect()
            });
            span = span.map(|span| {
                let first = starts.partition_point(|t| t.start_offset <= span.start_offset);
                match starts.get(first) {
                    Some(token) if token.start_offset < span.end_offset => Span {
                        start_line: token.start_line,
                        start_col: token.start_col,
                        start_offset: token.start_offset,
                        ..span
                    },
                    _ => span,
                }
            });
        }
        let line = code.get_line(i);
        let mut add = |instr: Instruction<'s>| {
            match (span, line) {
                (Some(span), _) => patched.add_with_span(instr, span),
                (None, Some(line)) => patched.add_with_line(instr, line as u16),
                (None, None) => patched.add(instr),
            };
        };
        // `!0`: no filter cache slot, so the hidden filter is looked up by
        // name and never mistaken for one the template uses.
        match instr {
            Instruction::Lt => add(Instruction::ApplyFilter(ORDERING[0].1, Some(2), !0)),
            Instruction::Lte => add(Instruction::ApplyFilter(ORDERING[1].1, Some(2), !0)),
            Instruction::Gt => add(Instruction::ApplyFilter(ORDERING[2].1, Some(2), !0)),
            Instruction::Gte => add(Instruction::ApplyFilter(ORDERING[3].1, Some(2), !0)),
            Instruction::CompareAndPreserve(op) if chained_filter(*op).is_some() => {
                // [a, b] -> [[a, b]] -> [[result, b]] -> [b, result]
                add(Instruction::BuildList(Some(2)));
                add(Instruction::ApplyFilter(
                    chained_filter(*op).expect("checked"),
                    Some(1),
                    !0,
                ));
                add(Instruction::UnpackList(2));
            }
            Instruction::Jump(t) => add(Instruction::Jump(at(*t))),
            Instruction::JumpIfFalse(t) => add(Instruction::JumpIfFalse(at(*t))),
            Instruction::JumpIfFalseOrPop(t) => add(Instruction::JumpIfFalseOrPop(at(*t))),
            Instruction::JumpIfTrueOrPop(t) => add(Instruction::JumpIfTrueOrPop(at(*t))),
            Instruction::Iterate(t) => add(Instruction::Iterate(at(*t))),
            Instruction::BuildMacro(name, offset, flags) => {
                add(Instruction::BuildMacro(name, at(*offset), *flags))
            }
            other => add(other.clone()),
        };
    }
    patched
}

fn is_comparison(instr: &Instruction<'_>) -> bool {
    matches!(
        instr,
        Instruction::Eq
            | Instruction::Ne
            | Instruction::Lt
            | Instruction::Lte
            | Instruction::Gt
            | Instruction::Gte
            | Instruction::In
            | Instruction::CompareAndPreserve(_)
    )
}

/// The hidden filter for a link of a chained comparison, if it orders.
/// (The machinery does not export the operator's type, only its `Debug`.)
fn chained_filter(op: impl std::fmt::Debug) -> Option<&'static str> {
    let op = format!("{op:?}");
    CHAINED
        .iter()
        .find(|(name, _)| *name == op)
        .map(|(_, filter)| *filter)
}
