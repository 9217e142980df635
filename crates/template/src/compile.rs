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
    self, ast, get_compiled_template, make_string_output, parse_expr, tokenize, CodeGenerator,
    Instruction, Instructions, Token,
};
use minijinja::{Environment, Error, Value};

use crate::compare::{CHAINED, ORDERING};

/// Template text with Ansible's backslash escaping applied.
pub(crate) struct Prepared<'a> {
    pub(crate) text: Cow<'a, str>,
    /// Offsets (in `text`) of the backslashes that were added.
    added: Vec<usize>,
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
        }
    }

    /// The offset in the original source of an offset in `text`.
    pub(crate) fn original(&self, offset: usize) -> usize {
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
    let instructions = python_comparisons(&compiled.instructions);
    let blocks: BTreeMap<_, _> = compiled
        .blocks
        .iter()
        .map(|(name, block)| (*name, python_comparisons(block)))
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

/// Evaluates a bare expression to its value.
pub(crate) fn eval(env: &Environment<'_>, expr: &str, root: Value) -> Result<Value, Error> {
    let instructions = compile_expression(expr)?;
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

/// Compiles an expression as minijinja's `compile_expression` does.
pub(crate) fn compile_expression(expr: &str) -> Result<Instructions<'_>, Error> {
    let ast: ast::Expr<'_> = parse_expr(expr)?;
    let mut generator = CodeGenerator::new("<expression>", expr);
    generator.compile_expr(&ast);
    Ok(python_comparisons(&generator.finish().0))
}

/// A copy of `code` whose ordering comparisons go through the hidden
/// comparison filters. A chained comparison (`a < b < c`) keeps its right
/// operand for the next link: its instruction becomes three (pack both
/// operands, compare, unpack), so every jump target is moved to match.
fn python_comparisons<'s>(code: &Instructions<'s>) -> Instructions<'s> {
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

    let mut patched = Instructions::new(code.name(), code.source());
    for i in 0..count {
        let instr = code.get(i).expect("counted");
        let span = code.get_span(i);
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

/// The hidden filter for a link of a chained comparison, if it orders.
/// (The machinery does not export the operator's type, only its `Debug`.)
fn chained_filter(op: impl std::fmt::Debug) -> Option<&'static str> {
    let op = format!("{op:?}");
    CHAINED
        .iter()
        .find(|(name, _)| *name == op)
        .map(|(_, filter)| *filter)
}
