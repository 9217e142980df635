//! Which variables a template reads, and what it would fail on, found
//! without rendering it.
//!
//! The task graph needs every name a task reads (to wait for the task that
//! produces it) and the subset it reads unguarded (a name no one defines is
//! an error only when nothing like `| default(...)` or `is defined` guards it).
//!
//! [`references`] and [`expression_references`] also fail, before anything
//! runs, on what would fail whatever the variables hold: an unknown filter,
//! test or lookup (in any branch, as Jinja2 rejects unknown filters when it
//! compiles), a comparison of literals Python cannot order (`'1' < 2`), and
//! template files that look each other up in a loop. Template files named
//! literally in `lookup('template', 'x.j2')` are followed: the variables
//! they read count as read by the template that looks them up.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use minijinja::machinery::ast::{self, CallArg, Expr, Stmt};
use minijinja::machinery::{parse, Span};
use minijinja::value::Value;

use crate::engine::has_template;
use crate::error::{Origin, TemplateSpan};
use crate::{lookups, Engine, TemplateError, Unknown};

/// Top-level variable names a template reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct References {
    /// Every name read, guarded or not.
    pub names: BTreeSet<String>,
    /// Names read outside any `default`/`d`/`mandatory` filter or
    /// `defined`/`undefined` test, which must therefore exist.
    pub required: BTreeSet<String>,
    /// Where each name is first read in the analysed text (byte range), for
    /// an error to point at; names read only inside a looked-up file have
    /// none.
    pub first_read: BTreeMap<String, Range<usize>>,
}

impl References {
    pub fn extend(&mut self, other: References) {
        self.names.extend(other.names);
        self.required.extend(other.required);
        for (name, range) in other.first_read {
            self.first_read.entry(name).or_insert(range);
        }
    }
}

/// A `lookup(...)`, `query(...)` or `q(...)` call written in a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupCall {
    /// The lookup's name, when written as a string literal.
    pub name: Option<String>,
    /// Each term, when written as a string literal.
    pub terms: Vec<Option<String>>,
    /// Byte range of the call in the analysed text.
    pub range: Range<usize>,
}

impl LookupCall {
    /// The file names of a `lookup('template', ...)` written as literals.
    pub fn template_files(&self) -> impl Iterator<Item = &str> {
        let template = matches!(
            self.name.as_deref(),
            Some("template" | "ansible.builtin.template")
        );
        self.terms
            .iter()
            .filter(move |_| template)
            .flatten()
            .map(String::as_str)
    }
}

/// The variables read by a template string (text with `{{ }}` / `{% %}`).
pub fn references(engine: &Engine, source: &str) -> Result<References, TemplateError> {
    if !has_template(source) {
        return Ok(References::default());
    }
    let undeclared = engine
        .env()
        .template_from_str(source)
        .map_err(|e| syntax(&e, source, 0, &Origin::Given))?
        .undeclared_variables(false);
    let walker = Walker::of(source, false, &Origin::Given)?;
    let lookups = walker.lookups.clone();
    let mut refs = walker.finish(engine, undeclared.into_iter().collect())?;
    follow_lookups(
        engine,
        &lookups,
        source,
        &Origin::Given,
        &mut Vec::new(),
        &mut refs,
    )?;
    Ok(refs)
}

/// The variables read by a bare expression (a `when` condition).
pub fn expression_references(engine: &Engine, expr: &str) -> Result<References, TemplateError> {
    if has_template(expr) {
        return references(engine, expr);
    }
    let undeclared = engine
        .env()
        .compile_expression(expr)
        .map_err(|e| syntax(&e, expr, 0, &Origin::Given))?
        .undeclared_variables(false);
    let walker = Walker::of(expr, true, &Origin::Given)?;
    let lookups = walker.lookups.clone();
    let mut refs = walker.finish(engine, undeclared.into_iter().collect())?;
    follow_lookups(
        engine,
        &lookups,
        expr,
        &Origin::Given,
        &mut Vec::new(),
        &mut refs,
    )?;
    Ok(refs)
}

/// The lookups a template (or, with `bare`, a bare expression) calls, in
/// the order written. Each named one is known to runbook (else
/// [`references`] fails with [`TemplateError::Unknown`]).
pub fn lookups_used(
    engine: &Engine,
    source: &str,
    bare: bool,
) -> Result<Vec<LookupCall>, TemplateError> {
    let _ = engine;
    if !bare && !has_template(source) {
        return Ok(Vec::new());
    }
    let bare = bare && !has_template(source);
    Ok(Walker::of(source, bare, &Origin::Given)?.lookups)
}

/// Follows the literal `lookup('template', ...)` calls of a template file
/// (a path as a lookup would take it, relative to the playbook's directory)
/// and the files they name in turn; `Some(chain)` when they come back to a
/// file on the way (`["a.j2", "b.j2", "a.j2"]`). Unreadable files end the
/// path (running reports them).
pub fn template_lookup_cycle(
    engine: &Engine,
    file: &str,
) -> Result<Option<Vec<String>>, TemplateError> {
    let mut refs = References::default();
    let lookup = LookupCall {
        name: Some("template".into()),
        terms: vec![Some(file.to_string())],
        range: 0..0,
    };
    match follow_lookups(
        engine,
        &[lookup],
        "",
        &Origin::Given,
        &mut Vec::new(),
        &mut refs,
    ) {
        Ok(()) => Ok(None),
        Err(TemplateError::LookupCycle { chain, .. }) => Ok(Some(chain)),
        Err(other) => Err(other),
    }
}

/// Variables a template or bare expression reads, as dotted paths where
/// attributes are constant (`kms.stack_outputs.Arn`); a path of just a
/// name means the whole value may be read.
pub fn variable_paths(
    engine: &Engine,
    source: &str,
    bare: bool,
) -> Result<BTreeSet<String>, TemplateError> {
    let paths = if bare && !has_template(source) {
        engine
            .env()
            .compile_expression(source)
            .map_err(|e| syntax(&e, source, 0, &Origin::Given))?
            .undeclared_variables(true)
    } else if has_template(source) {
        engine
            .env()
            .template_from_str(source)
            .map_err(|e| syntax(&e, source, 0, &Origin::Given))?
            .undeclared_variables(true)
    } else {
        Default::default()
    };
    Ok(paths.into_iter().collect())
}

/// A parse error, pointing into `source`. `shift` is how far the parsed
/// text runs ahead of `source` (a bare expression is parsed inside `{{ }}`).
fn syntax(err: &minijinja::Error, source: &str, shift: usize, origin: &Origin) -> TemplateError {
    let span = err.range().map(|r| {
        TemplateSpan::new(
            origin.clone(),
            Arc::from(source),
            r.start.saturating_sub(shift)..r.end.saturating_sub(shift),
        )
    });
    TemplateError::from_minijinja(err).located(span)
}

/// Walks the template files named by literal template lookups, adding
/// what they read to `refs`. `stack` is the chain of files being walked.
fn follow_lookups(
    engine: &Engine,
    lookups: &[LookupCall],
    source: &str,
    origin: &Origin,
    stack: &mut Vec<PathBuf>,
    refs: &mut References,
) -> Result<(), TemplateError> {
    for call in lookups {
        for file in call.template_files() {
            let path = lookups::resolve(engine.base_dir(), file);
            let at = || {
                (!source.is_empty())
                    .then(|| TemplateSpan::new(origin.clone(), source.into(), call.range.clone()))
            };
            if let Some(start) = stack.iter().position(|p| *p == path) {
                let mut chain: Vec<String> = stack[start..]
                    .iter()
                    .map(|p| display_name(engine, p))
                    .collect();
                chain.push(file.to_string());
                return Err(TemplateError::LookupCycle { chain, at: None }.located(at()));
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let file_origin = Origin::File(file.to_string());
            let undeclared = engine
                .env()
                .template_from_str(&text)
                .map_err(|e| syntax(&e, &text, 0, &file_origin))?
                .undeclared_variables(false);
            let walker = Walker::of(&text, false, &file_origin)?;
            let nested = walker.lookups.clone();
            let mut found = walker.finish(engine, undeclared.into_iter().collect())?;
            // Unguarded in the file is required, wherever the lookup sits:
            // `default` cannot catch an error inside a lookup. Its ranges are
            // in the file, not in the text analysed.
            found.first_read.clear();
            refs.extend(found);
            stack.push(path);
            let followed = follow_lookups(engine, &nested, &text, &file_origin, stack, refs);
            stack.pop();
            followed?;
        }
    }
    Ok(())
}

/// A file as the lookups name it: relative to the playbook's directory.
fn display_name(engine: &Engine, path: &std::path::Path) -> String {
    path.strip_prefix(engine.base_dir())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Names a `defined` test in a condition proves, so that the branch taken
/// when it holds may read them freely: `x if x is defined else 'y'`.
fn proven_defined<'a>(expr: &Expr<'a>, out: &mut BTreeSet<String>) {
    match expr {
        Expr::Test(test) if test.name == "defined" => {
            if let Some(name) = root_var(&test.expr) {
                out.insert(name.to_string());
            }
        }
        Expr::BinOp(op) => {
            proven_defined(&op.left, out);
            proven_defined(&op.right, out);
        }
        _ => {}
    }
}

fn root_var<'a>(expr: &Expr<'a>) -> Option<&'a str> {
    match expr {
        Expr::Var(var) => Some(var.id),
        Expr::GetAttr(attr) => root_var(&attr.expr),
        Expr::GetItem(item) => root_var(&item.expr),
        _ => None,
    }
}

fn ordering(op: ast::BinOpKind) -> Option<&'static str> {
    Some(match op {
        ast::BinOpKind::Lt => "<",
        ast::BinOpKind::Lte => "<=",
        ast::BinOpKind::Gt => ">",
        ast::BinOpKind::Gte => ">=",
        _ => return None,
    })
}

fn compare_ordering(op: ast::CompareOpKind) -> Option<&'static str> {
    Some(match op {
        ast::CompareOpKind::Lt => "<",
        ast::CompareOpKind::Lte => "<=",
        ast::CompareOpKind::Gt => ">",
        ast::CompareOpKind::Gte => ">=",
        _ => return None,
    })
}

struct Walker<'s> {
    /// The analysed text, its origin, and how far the parsed text runs
    /// ahead of it.
    source: &'s str,
    origin: &'s Origin,
    shift: usize,
    required: BTreeSet<String>,
    /// Filter and test names used, with where first, checked against the
    /// engine: Jinja2 rejects an unknown one when it compiles the template,
    /// whatever branch it sits in, so it is an error before anything runs.
    filters: Vec<(String, Span)>,
    tests: Vec<(String, Span)>,
    first_read: BTreeMap<String, Range<usize>>,
    lookups: Vec<LookupCall>,
    /// What fails whatever the variables hold (literals Python cannot
    /// order), found on the way.
    errors: Vec<TemplateError>,
    /// Met a statement whose reads it does not follow (macros, imports):
    /// then every name is required.
    unknown: bool,
}

impl<'s> Walker<'s> {
    /// Parses and walks `source` (a bare expression when `bare`).
    fn of(source: &'s str, bare: bool, origin: &'s Origin) -> Result<Walker<'s>, TemplateError> {
        // A bare expression is parsed inside `{{ }}`, whose parser records
        // spans (the bare expression parser does not).
        let (parsed, shift) = if bare {
            (format!("{{{{ {source} }}}}"), 3)
        } else {
            (source.to_string(), 0)
        };
        let ast = parse(&parsed, "<string>", Default::default())
            .map_err(|e| syntax(&e, source, shift, origin))?;
        let mut walker = Walker {
            source,
            origin,
            shift,
            required: BTreeSet::new(),
            filters: Vec::new(),
            tests: Vec::new(),
            first_read: BTreeMap::new(),
            lookups: Vec::new(),
            errors: Vec::new(),
            unknown: false,
        };
        walker.stmt(&ast, &BTreeSet::new());
        Ok(walker)
    }

    fn range(&self, span: Span) -> Range<usize> {
        let start = (span.start_offset as usize).saturating_sub(self.shift);
        let end = (span.end_offset as usize).saturating_sub(self.shift);
        start.min(self.source.len())..end.min(self.source.len())
    }

    fn at(&self, span: Span) -> Option<TemplateSpan> {
        Some(TemplateSpan::new(
            self.origin.clone(),
            Arc::from(self.source),
            self.range(span),
        ))
    }

    fn finish(
        self,
        engine: &Engine,
        undeclared: BTreeSet<String>,
    ) -> Result<References, TemplateError> {
        let unknown = |kind, (name, span): &(String, Span)| {
            TemplateError::Unknown {
                kind,
                name: name.clone(),
                at: None,
            }
            .located(self.at(*span))
        };
        if let Some(filter) = self.filters.iter().find(|(n, _)| !engine.knows_filter(n)) {
            return Err(unknown(Unknown::Filter, filter));
        }
        if let Some(test) = self.tests.iter().find(|(n, _)| !engine.knows_test(n)) {
            return Err(unknown(Unknown::Test, test));
        }
        for call in &self.lookups {
            if let Some(name) = &call.name {
                if let Err(kind) = lookups::check(name) {
                    return Err(TemplateError::Unknown {
                        kind,
                        name: name.clone(),
                        at: None,
                    }
                    .located(Some(TemplateSpan::new(
                        self.origin.clone(),
                        Arc::from(self.source),
                        call.range.clone(),
                    ))));
                }
            }
        }
        if let Some(err) = self.errors.into_iter().next() {
            return Err(err);
        }
        // minijinja's own analysis knows loop and `set` locals; keep only
        // the names it agrees come from outside. A global function's name
        // (`q`, `range`, `debug`, ...) is still a read: a variable of that
        // name shadows the function. It just need not be defined.
        let names = undeclared;
        let needed = |n: &String| names.contains(n) && !engine.is_global(n);
        let required = if self.unknown {
            names.iter().filter(|n| needed(n)).cloned().collect()
        } else {
            self.required.into_iter().filter(|n| needed(n)).collect()
        };
        let mut first_read = self.first_read;
        first_read.retain(|name, _| names.contains(name));
        Ok(References {
            names,
            required,
            first_read,
        })
    }

    fn stmts(&mut self, body: &[Stmt<'_>], proven: &BTreeSet<String>) {
        for stmt in body {
            self.stmt(stmt, proven);
        }
    }

    fn stmt(&mut self, stmt: &Stmt<'_>, proven: &BTreeSet<String>) {
        match stmt {
            Stmt::Template(t) => self.stmts(&t.children, proven),
            Stmt::EmitExpr(e) => self.expr(&e.expr, false, proven),
            Stmt::EmitRaw(_) => {}
            Stmt::ForLoop(f) => {
                self.expr(&f.iter, false, proven);
                if let Some(filter) = &f.filter_expr {
                    self.expr(filter, false, proven);
                }
                self.stmts(&f.body, proven);
                self.stmts(&f.else_body, proven);
            }
            Stmt::IfCond(c) => {
                self.expr(&c.expr, false, proven);
                let mut inner = proven.clone();
                proven_defined(&c.expr, &mut inner);
                self.stmts(&c.true_body, &inner);
                self.stmts(&c.false_body, proven);
            }
            Stmt::WithBlock(w) => {
                for (_, value) in &w.assignments {
                    self.expr(value, false, proven);
                }
                self.stmts(&w.body, proven);
            }
            Stmt::Set(s) => self.expr(&s.expr, false, proven),
            Stmt::SetBlock(s) => {
                if let Some(filter) = &s.filter {
                    self.expr(filter, false, proven);
                }
                self.stmts(&s.body, proven);
            }
            Stmt::AutoEscape(a) => self.stmts(&a.body, proven),
            Stmt::FilterBlock(f) => {
                self.expr(&f.filter, false, proven);
                self.stmts(&f.body, proven);
            }
            Stmt::Do(d) => {
                self.expr(&d.call.expr, false, proven);
                self.args(&d.call.args, proven);
            }
            Stmt::Block(b) => self.stmts(&b.body, proven),
            // What a macro reads depends on its arguments; its filters,
            // tests and lookups are checked all the same.
            Stmt::Macro(m) => {
                self.unknown = true;
                for default in &m.defaults {
                    self.expr(default, false, proven);
                }
                self.stmts(&m.body, proven);
            }
            Stmt::CallBlock(c) => {
                self.unknown = true;
                self.expr(&c.call.expr, false, proven);
                self.args(&c.call.args, proven);
                self.stmts(&c.macro_decl.body, proven);
            }
            // Includes, imports and the rest do not occur in playbook
            // values; anything they read counts as read (and required)
            // through minijinja's own analysis.
            _ => self.unknown = true,
        }
    }

    fn args(&mut self, args: &[CallArg<'_>], proven: &BTreeSet<String>) {
        for arg in args {
            match arg {
                CallArg::Pos(e)
                | CallArg::Kwarg(_, e)
                | CallArg::PosSplat(e)
                | CallArg::KwargSplat(e) => self.expr(e, false, proven),
            }
        }
    }

    /// Records a call of `lookup`, `query` or `q`.
    fn lookup_call(&mut self, call: &ast::Spanned<ast::Call<'_>>) {
        let Expr::Var(callee) = &call.expr else {
            return;
        };
        if !matches!(callee.id, "lookup" | "query" | "q") {
            return;
        }
        let literal = |arg: &CallArg<'_>| match arg {
            CallArg::Pos(Expr::Const(c)) => c.value.as_str().map(String::from),
            _ => None,
        };
        let mut positional = call
            .args
            .iter()
            .filter(|a| matches!(a, CallArg::Pos(_) | CallArg::PosSplat(_)));
        let Some(first) = positional.next() else {
            return;
        };
        let start = callee.span();
        self.lookups.push(LookupCall {
            name: literal(first),
            terms: positional.map(literal).collect(),
            range: self.range(Span {
                end_offset: call.span().end_offset,
                ..start
            }),
        });
    }

    /// `a OP b` of literals that Python cannot order fails whatever runs;
    /// minijinja would compute it when compiling, without failing.
    fn literal_order(&mut self, symbol: &str, left: &Expr<'_>, right: &Expr<'_>) -> Option<bool> {
        let (a, b): (Value, Value) = (left.as_const()?, right.as_const()?);
        match crate::compare::order(symbol, &a, &b) {
            Ok(holds) => Some(holds),
            Err(message) => {
                let span = Span {
                    end_offset: right.span().end_offset,
                    ..left.span()
                };
                let at = self.at(span);
                self.errors
                    .push(TemplateError::Render { message, at: None }.located(at));
                None
            }
        }
    }

    fn expr(&mut self, expr: &Expr<'_>, guarded: bool, proven: &BTreeSet<String>) {
        match expr {
            Expr::Var(var) => {
                if !self.first_read.contains_key(var.id) {
                    let range = self.range(var.span());
                    self.first_read.insert(var.id.to_string(), range);
                }
                if !guarded && !proven.contains(var.id) {
                    self.required.insert(var.id.to_string());
                }
            }
            Expr::Const(_) => {}
            Expr::Slice(s) => {
                self.expr(&s.expr, guarded, proven);
                for part in [&s.start, &s.stop, &s.step].into_iter().flatten() {
                    self.expr(part, false, proven);
                }
            }
            Expr::UnaryOp(u) => self.expr(&u.expr, guarded, proven),
            Expr::BinOp(b) => {
                if let Some(symbol) = ordering(b.op) {
                    self.literal_order(symbol, &b.left, &b.right);
                }
                self.expr(&b.left, guarded, proven);
                self.expr(&b.right, guarded, proven);
            }
            Expr::Compare(c) => {
                let mut left = &c.expr;
                for op in &c.ops {
                    if let Some(symbol) = compare_ordering(op.op) {
                        // Python stops at the first link that is false.
                        if self.literal_order(symbol, left, &op.expr) == Some(false) {
                            break;
                        }
                    }
                    left = &op.expr;
                }
                self.expr(&c.expr, guarded, proven);
                for op in &c.ops {
                    self.expr(&op.expr, guarded, proven);
                }
            }
            Expr::IfExpr(i) => {
                self.expr(&i.test_expr, guarded, proven);
                let mut inner = proven.clone();
                proven_defined(&i.test_expr, &mut inner);
                self.expr(&i.true_expr, guarded, &inner);
                if let Some(f) = &i.false_expr {
                    self.expr(f, guarded, proven);
                }
            }
            Expr::Filter(f) => {
                if !self.filters.iter().any(|(n, _)| n == f.name) {
                    self.filters.push((f.name.to_string(), f.span()));
                }
                let guards = matches!(f.name, "default" | "d" | "mandatory");
                if let Some(inner) = &f.expr {
                    self.expr(inner, guarded || guards, proven);
                }
                self.args(&f.args, proven);
            }
            Expr::Test(t) => {
                if !self.tests.iter().any(|(n, _)| n == t.name) {
                    self.tests.push((t.name.to_string(), t.span()));
                }
                let guards = matches!(t.name, "defined" | "undefined");
                self.expr(&t.expr, guarded || guards, proven);
                self.args(&t.args, proven);
            }
            Expr::GetAttr(a) => self.expr(&a.expr, guarded, proven),
            Expr::GetItem(i) => {
                self.expr(&i.expr, guarded, proven);
                self.expr(&i.subscript_expr, false, proven);
            }
            Expr::Call(c) => {
                self.lookup_call(c);
                self.expr(&c.expr, guarded, proven);
                self.args(&c.args, proven);
            }
            Expr::List(l) => {
                for item in &l.items {
                    self.expr(item, guarded, proven);
                }
            }
            Expr::Tuple(t) => {
                for item in &t.items {
                    self.expr(item, guarded, proven);
                }
            }
            Expr::Map(m) => {
                for item in m.keys.iter().chain(&m.values) {
                    self.expr(item, guarded, proven);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn refs(source: &str) -> (Vec<String>, Vec<String>) {
        let r = references(&Engine::new(Path::new(".")), source).unwrap();
        (
            r.names.into_iter().collect(),
            r.required.into_iter().collect(),
        )
    }

    #[test]
    fn where_each_name_is_first_read() {
        let engine = Engine::new(Path::new("."));
        let text = "a {{ x }} {{ y | default(x) }}{% for i in z %}{{ i }}{% endfor %}";
        let r = references(&engine, text).unwrap();
        let at = |name: &str| &text[r.first_read[name].clone()];
        assert_eq!((at("x"), r.first_read["x"].start), ("x", 5));
        assert_eq!(at("y"), "y");
        assert_eq!(at("z"), "z");
        // A loop's own variable is not read from outside.
        assert!(!r.first_read.contains_key("i"));
        // A bare expression's ranges are in the text as written.
        let r = expression_references(&engine, "flag and other > 1").unwrap();
        assert_eq!(r.first_read["other"], 9..14);
    }

    #[test]
    fn unknown_filters_and_tests_fail_in_any_branch() {
        let engine = Engine::new(Path::new("."));
        // As Jinja2 does at compile time: the branch need not be taken.
        let err = references(&engine, "{% if false %}{{ x | to_uuid }}{% endif %}")
            .expect_err("unknown filter");
        assert!(
            err.to_string().starts_with("unknown filter `to_uuid`"),
            "{err}"
        );
        let err =
            expression_references(&engine, "x is version('1', '>')").expect_err("unknown test");
        assert!(
            err.to_string().starts_with("unknown test `version`"),
            "{err}"
        );
        // Built-in and runbook's own names pass, however they are used.
        for source in [
            "{{ x | default('') | to_nice_json | upper }}",
            "{% filter lower %}A{% endfilter %}",
            "{{ r is changed or r is defined }}",
        ] {
            references(&engine, source).unwrap_or_else(|e| panic!("{source}: {e}"));
        }
        assert!(engine.knows_filter("combine") && !engine.knows_filter("ipaddr"));
        assert!(engine.knows_test("skipped") && !engine.knows_test("search"));
    }

    #[test]
    fn finds_top_level_names() {
        let (names, required) = refs("{{ kms.stack_outputs.Arn }}-{{ region | lower }}");
        assert_eq!(names, ["kms", "region"]);
        assert_eq!(required, ["kms", "region"]);
    }

    #[test]
    fn guarded_names_are_not_required() {
        let (names, required) =
            refs("{{ boundary | default('none') }} {{ x if x is defined else y }}");
        assert_eq!(names, ["boundary", "x", "y"]);
        assert_eq!(required, ["y"]);
    }

    #[test]
    fn loop_locals_are_not_variables_and_globals_need_not_be() {
        let (names, required) =
            refs("{% for i in items %}{{ i }}{% endfor %}{{ lookup('env', 'HOME') }}");
        // `lookup` is read (a variable of that name would shadow the
        // function) but need not be defined.
        assert_eq!(names, ["items", "lookup"]);
        assert_eq!(required, ["items"]);
    }

    #[test]
    fn plain_text_reads_nothing() {
        assert_eq!(refs("just text"), (vec![], vec![]));
    }

    #[test]
    fn paths_keep_constant_attributes() {
        let engine = Engine::new(Path::new("."));
        let paths = variable_paths(
            &engine,
            "{{ kms.stack_outputs.Arn }} {{ lookup('file', 'x/kms.t') }} {{ r['k'] }}",
            false,
        )
        .unwrap();
        assert!(paths.contains("kms.stack_outputs.Arn"), "{paths:?}");
        assert!(paths.contains("r"), "{paths:?}");
        assert!(!paths.iter().any(|p| p.contains("kms.t")), "{paths:?}");
        let paths = variable_paths(&engine, "r is changed", true).unwrap();
        assert!(paths.contains("r"), "{paths:?}");
    }

    #[test]
    fn when_expressions() {
        let r = expression_references(&Engine::new(Path::new(".")), "a is defined and b | bool")
            .unwrap();
        assert_eq!(r.names.into_iter().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(r.required.into_iter().collect::<Vec<_>>(), ["b"]);
    }

    #[test]
    fn unknown_and_refused_lookups_fail_before_running() {
        let engine = Engine::new(Path::new("."));
        let err = references(
            &engine,
            "{% if false %}{{ lookup('pipe', 'date') }}{% endif %}",
        )
        .expect_err("refused");
        let TemplateError::Unknown { kind, name, at } = &err else {
            panic!("{err:?}")
        };
        assert_eq!((*kind, name.as_str()), (Unknown::RefusedLookup, "pipe"));
        let at = at.as_ref().expect("a place");
        assert_eq!(&at.source[at.range.clone()], "lookup('pipe', 'date')");
        let err = expression_references(&engine, "query('ansible.builtin.nope') | length > 0")
            .expect_err("unknown");
        assert!(
            matches!(&err, TemplateError::Unknown { kind: Unknown::Lookup, name, .. } if name == "ansible.builtin.nope"),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("runbook has env, file, template"),
            "{err}"
        );
        // Known ones, and names that are not literals, pass.
        references(
            &engine,
            "{{ lookup('ansible.builtin.env', 'HOME') }} {{ q(kind, 'x') }}",
        )
        .unwrap();
    }

    #[test]
    fn lookups_used_lists_each_call() {
        let engine = Engine::new(Path::new("."));
        let calls = lookups_used(
            &engine,
            "{{ lookup('file', 'a.txt', name) }}{% set x = query('vars', 'y') %}",
            false,
        )
        .unwrap();
        assert_eq!(
            calls,
            vec![
                LookupCall {
                    name: Some("file".into()),
                    terms: vec![Some("a.txt".into()), None],
                    range: 3..32,
                },
                LookupCall {
                    name: Some("vars".into()),
                    terms: vec![Some("y".into())],
                    range: 46..64,
                },
            ]
        );
        let calls = lookups_used(&engine, "lookup('env', 'X') == ''", true).unwrap();
        assert_eq!(calls[0].range, 0..18);
    }

    #[test]
    fn literals_python_cannot_order_fail_before_running() {
        let engine = Engine::new(Path::new("."));
        for (source, failing) in [
            ("{{ '1' > 20 }}", "'1' > 20"),
            ("{{ x if [1] < ['a'] else y }}", "[1] < ['a']"),
            ("{{ 1 < 2 < 'b' }}", "2 < 'b'"),
        ] {
            let err = references(&engine, source).expect_err(source);
            let at = err.span().expect("a place");
            assert_eq!(&at.source[at.range.clone()], failing, "{source}");
            assert!(
                err.to_string()
                    .contains("not supported between instances of"),
                "{err}"
            );
        }
        let err = expression_references(&engine, "n and none < 1").expect_err("none");
        let at = err.span().expect("a place");
        assert_eq!(&at.source[at.range.clone()], "none < 1");
        // Python stops at the first false link; so does the check.
        references(&engine, "{{ 2 < 1 < 'b' }} {{ 1 < 2 }} {{ n < '2' }}").unwrap();
    }

    #[test]
    fn template_files_are_followed_and_their_loops_found() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("a.j2", "{{ lookup('template', 'b.j2') }}");
        write(
            "b.j2",
            "{% if c %}{{ lookup('template', 'a.j2') }}{% endif %}",
        );
        write(
            "leaf.j2",
            "{{ who }} {{ maybe | default('') }} {{ lookup('template', 'leaf2.j2') }}",
        );
        write("leaf2.j2", "{{ deep }}");
        write("bad.j2", "{{ x | to_uuid }}");
        let engine = Engine::new(dir.path());

        let err = references(&engine, "x {{ lookup('template', 'a.j2') }}").expect_err("loop");
        let TemplateError::LookupCycle { chain, at } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(chain, &["a.j2", "b.j2", "a.j2"]);
        // Pointed at the lookup that closes the loop, in its file.
        assert_eq!(at.as_ref().unwrap().origin, Origin::File("b.j2".into()));
        assert_eq!(
            template_lookup_cycle(&engine, "a.j2").unwrap(),
            Some(vec!["a.j2".to_string(), "b.j2".into(), "a.j2".into()])
        );
        assert_eq!(template_lookup_cycle(&engine, "leaf.j2").unwrap(), None);
        assert_eq!(template_lookup_cycle(&engine, "missing.j2").unwrap(), None);

        let refs = references(&engine, "{{ lookup('template', 'leaf.j2') }}").unwrap();
        let names: Vec<_> = refs.names.iter().map(String::as_str).collect();
        assert_eq!(names, ["deep", "lookup", "maybe", "who"]);
        let required: Vec<_> = refs.required.iter().map(String::as_str).collect();
        assert_eq!(required, ["deep", "who"]);

        let err = references(&engine, "{{ lookup('template', 'bad.j2') }}").expect_err("filter");
        assert_eq!(err.span().unwrap().origin, Origin::File("bad.j2".into()));
    }

    #[test]
    fn filters_inside_macros_are_checked() {
        let engine = Engine::new(Path::new("."));
        let err = references(&engine, "{% macro m(a) %}{{ a | ipaddr }}{% endmacro %}")
            .expect_err("unknown filter");
        assert!(
            matches!(
                err,
                TemplateError::Unknown {
                    kind: Unknown::Filter,
                    ..
                }
            ),
            "{err:?}"
        );
    }
}
