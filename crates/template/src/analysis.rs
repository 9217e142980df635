//! Which variables a template reads, found without rendering it.
//!
//! The task graph needs every name a task reads (to wait for the task that
//! produces it) and the subset it reads unguarded (a name no one defines is
//! an error only when nothing like `| default(...)` or `is defined` guards it).

use std::collections::BTreeSet;

use minijinja::machinery::ast::{CallArg, Expr, Stmt};
use minijinja::machinery::{parse, parse_expr};

use crate::engine::has_template;
use crate::{Engine, TemplateError, Unknown};

/// Top-level variable names a template reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct References {
    /// Every name read, guarded or not.
    pub names: BTreeSet<String>,
    /// Names read outside any `default`/`d`/`mandatory` filter or
    /// `defined`/`undefined` test, which must therefore exist.
    pub required: BTreeSet<String>,
}

impl References {
    pub fn extend(&mut self, other: References) {
        self.names.extend(other.names);
        self.required.extend(other.required);
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
        .map_err(|e| TemplateError::from_minijinja(&e))?
        .undeclared_variables(false);
    let ast = parse(source, "<string>", Default::default())
        .map_err(|e| TemplateError::from_minijinja(&e))?;
    let mut walker = Walker::default();
    walker.stmt(&ast, &BTreeSet::new());
    walker.finish(engine, undeclared.into_iter().collect())
}

/// The variables read by a bare expression (a `when` condition).
pub fn expression_references(engine: &Engine, expr: &str) -> Result<References, TemplateError> {
    if has_template(expr) {
        return references(engine, expr);
    }
    let undeclared = engine
        .env()
        .compile_expression(expr)
        .map_err(|e| TemplateError::from_minijinja(&e))?
        .undeclared_variables(false);
    let ast = parse_expr(expr).map_err(|e| TemplateError::from_minijinja(&e))?;
    let mut walker = Walker::default();
    walker.expr(&ast, false, &BTreeSet::new());
    walker.finish(engine, undeclared.into_iter().collect())
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
            .map_err(|e| TemplateError::from_minijinja(&e))?
            .undeclared_variables(true)
    } else if has_template(source) {
        engine
            .env()
            .template_from_str(source)
            .map_err(|e| TemplateError::from_minijinja(&e))?
            .undeclared_variables(true)
    } else {
        Default::default()
    };
    Ok(paths.into_iter().collect())
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

#[derive(Default)]
struct Walker {
    required: BTreeSet<String>,
    /// Filter and test names used, checked against the engine: Jinja2
    /// rejects an unknown one when it compiles the template, whatever branch
    /// it sits in, so it is an error before anything runs.
    filters: BTreeSet<String>,
    tests: BTreeSet<String>,
    /// Met a statement it does not look into: then every name is required.
    unknown: bool,
}

impl Walker {
    fn finish(
        self,
        engine: &Engine,
        undeclared: BTreeSet<String>,
    ) -> Result<References, TemplateError> {
        let unknown = |kind, name: &String| TemplateError::Unknown {
            kind,
            name: name.clone(),
            at: None,
        };
        if let Some(name) = self.filters.iter().find(|n| !engine.knows_filter(n)) {
            return Err(unknown(Unknown::Filter, name));
        }
        if let Some(name) = self.tests.iter().find(|n| !engine.knows_test(n)) {
            return Err(unknown(Unknown::Test, name));
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
        Ok(References { names, required })
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
            // Blocks, macros and imports do not occur in playbook values;
            // anything they read counts as read (and required) through
            // minijinja's own analysis below.
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

    fn expr(&mut self, expr: &Expr<'_>, guarded: bool, proven: &BTreeSet<String>) {
        match expr {
            Expr::Var(var) => {
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
                self.expr(&b.left, guarded, proven);
                self.expr(&b.right, guarded, proven);
            }
            Expr::Compare(c) => {
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
                self.filters.insert(f.name.to_string());
                let guards = matches!(f.name, "default" | "d" | "mandatory");
                if let Some(inner) = &f.expr {
                    self.expr(inner, guarded || guards, proven);
                }
                self.args(&f.args, proven);
            }
            Expr::Test(t) => {
                self.tests.insert(t.name.to_string());
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
}
