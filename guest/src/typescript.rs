//! TypeScript in: types are erased before QuickJS sees the code.
//!
//! The agent's code is parsed with oxc's TypeScript parser, here inside the
//! sandbox: untrusted text is only ever parsed in WebAssembly, under the run's
//! fuel, memory and deadline, so a parser bug or a pathological input can at
//! worst end this one run. Types are then *blanked*, not removed: every
//! character of type syntax becomes a space (line breaks stay), so each line
//! and column of the JavaScript that QuickJS runs is the line and column of
//! the agent's own source, and errors and stack traces need no source map.
//!
//! Constructs that would need code emitted (enums, namespaces holding
//! values, parameter properties, decorators, `import x = require()` and
//! `export =`) are refused with an error naming the construct and where it is.
//!
//! A blanked statement starts with `;` so that the statements around it do
//! not join (`let a = 1` then a blanked `interface` then `(f)()` must not
//! become a call of `1`). An arrow function whose return type spans a line
//! break gets its `)` moved to the end of the type, since JavaScript allows
//! no line break between `)` and `=>`.

use oxc_allocator::Allocator;
use oxc_ast::ast::*;
use oxc_ast_visit::{Visit, walk};
use oxc_parser::{ParseOptions, Parser};
use oxc_span::{GetSpan, SourceType, Span};
use oxc_syntax::scope::ScopeFlags;

/// Why the code could not be turned into JavaScript, and where (a byte
/// offset into the code).
#[derive(Debug, PartialEq, Eq)]
pub struct StripError {
    pub message: String,
    pub offset: usize,
}

/// The JavaScript for `code`: the same text with every piece of TypeScript
/// syntax replaced by spaces.
pub fn strip(code: &str) -> Result<String, StripError> {
    let allocator = Allocator::default();
    let source_type = SourceType::ts().with_unambiguous(true);
    // A top-level `return` is left for QuickJS to refuse and the run to
    // allow (see `shape`), as it is in JavaScript.
    let options = ParseOptions {
        allow_return_outside_function: true,
        ..ParseOptions::default()
    };
    let parsed = Parser::new(&allocator, code, source_type)
        .with_options(options)
        .parse();
    if let Some(error) = parsed.diagnostics.errors().next() {
        let offset = error
            .labels
            .first()
            .map_or(0, |label| label.offset() as usize)
            .min(code.len());
        let message = match &error.help {
            Some(help) => format!("{}: {help}", error.message),
            None => error.message.to_string(),
        };
        return Err(StripError { message, offset });
    }
    let mut blanker = Blanker {
        code,
        blank: Vec::new(),
        put: Vec::new(),
        refusal: None,
    };
    blanker.visit_program(&parsed.program);
    if let Some(refusal) = blanker.refusal {
        return Err(refusal);
    }
    Ok(blanker.finish())
}

/// Collects which bytes of the code are type syntax.
struct Blanker<'s> {
    code: &'s str,
    /// Byte ranges to turn into spaces (line breaks are kept); they may
    /// nest.
    blank: Vec<(usize, usize)>,
    /// Characters to write over blanked positions: `;` to end a statement,
    /// `)` moved past an arrow function's return type.
    put: Vec<(usize, char)>,
    /// The first construct that needs emitted code.
    refusal: Option<StripError>,
}

impl Blanker<'_> {
    fn blank(&mut self, span: Span) {
        self.blank.push((span.start as usize, span.end as usize));
    }

    /// Blank a whole statement, leaving a `;` where it began.
    fn blank_statement(&mut self, span: Span) {
        self.blank(span);
        self.put.push((span.start as usize, ';'));
    }

    fn refuse(&mut self, at: u32, message: &str) {
        if self.refusal.is_none() {
            self.refusal = Some(StripError {
                message: message.to_string(),
                offset: at as usize,
            });
        }
    }

    /// The offset just past `after` and any whitespace and comments that
    /// follow it, where the next token starts.
    fn next_token(&self, after: u32) -> usize {
        let bytes = self.code.as_bytes();
        let mut at = after as usize;
        while at < bytes.len() {
            let rest = &self.code[at..];
            if rest.starts_with("//") {
                at += rest.find('\n').unwrap_or(rest.len());
            } else if rest.starts_with("/*") {
                at += rest.find("*/").map_or(rest.len(), |end| end + 2);
            } else if let Some(c) = rest.chars().next().filter(|c| c.is_whitespace()) {
                at += c.len_utf8();
            } else {
                break;
            }
        }
        at
    }

    /// Blank the single-character token `token` if it is the next one after
    /// `after` (skipping one `]` when `computed`): the `?` of an optional
    /// member, the `!` of a definite one, the `,` after `this: T`.
    fn blank_token_after(&mut self, after: u32, computed: bool, token: u8) {
        let mut at = self.next_token(after);
        if computed && self.code.as_bytes().get(at) == Some(&b']') {
            at = self.next_token(at as u32 + 1);
        }
        if self.code.as_bytes().get(at) == Some(&token) {
            self.blank.push((at, at + 1));
        }
    }

    /// Blank the TypeScript modifier keywords (`private`, `readonly`, ...)
    /// between `start` and `end`, the text before a member's name.
    fn blank_modifiers(&mut self, start: u32, end: u32) {
        const MODIFIERS: &[&str] = &[
            "public",
            "private",
            "protected",
            "readonly",
            "override",
            "declare",
            "abstract",
        ];
        let region = &self.code[start as usize..end as usize];
        let mut words = Vec::new();
        let mut word_start = None;
        for (i, c) in region.char_indices().chain([(region.len(), ' ')]) {
            let part_of_word = c.is_alphanumeric() || c == '_' || c == '$';
            match (part_of_word, word_start) {
                (true, None) => word_start = Some(i),
                (false, Some(s)) => {
                    words.push((s, i));
                    word_start = None;
                }
                _ => {}
            }
        }
        for (s, e) in words {
            if MODIFIERS.contains(&&region[s..e]) {
                let base = start as usize;
                self.blank.push((base + s, base + e));
            }
        }
    }

    fn refuse_decorators(&mut self, decorators: &[Decorator]) {
        if let Some(decorator) = decorators.first() {
            self.refuse(
                decorator.span.start,
                "decorators need emitted code, which this sandbox does not generate: call the function directly instead",
            );
        }
    }

    /// Whether a declaration exists only for the type checker (and is
    /// removed whole), refusing those that would need emitted code.
    fn is_type_only(&mut self, declaration: &Declaration) -> bool {
        match declaration {
            Declaration::TSTypeAliasDeclaration(_)
            | Declaration::TSInterfaceDeclaration(_)
            | Declaration::TSGlobalDeclaration(_) => true,
            Declaration::VariableDeclaration(v) => v.declare,
            Declaration::FunctionDeclaration(f) => f.declare || f.body.is_none(),
            Declaration::ClassDeclaration(c) => c.declare,
            Declaration::TSEnumDeclaration(e) => {
                if !e.declare {
                    self.refuse(
                        e.span.start,
                        "`enum` declarations need emitted code, which this sandbox does not generate: use a union of string literals, or an object with `as const`",
                    );
                }
                true
            }
            Declaration::TSExternalModuleDeclaration(_) => true,
            Declaration::TSNamespaceDeclaration(n) => {
                if !n.declare && !namespace_is_type_only(&n.body) {
                    self.refuse(
                        n.span.start,
                        "a `namespace` holding values needs emitted code, which this sandbox does not generate: use an object instead",
                    );
                }
                true
            }
            Declaration::TSImportEqualsDeclaration(i) => {
                if i.import_kind.is_value() {
                    self.refuse(
                        i.span.start,
                        "`import ... =` needs emitted code and modules, which this sandbox does not have",
                    );
                }
                true
            }
        }
    }

    /// The JavaScript: the code with blanked ranges turned into spaces, one
    /// per byte, so that columns (QuickJS counts bytes) stay put.
    fn finish(mut self) -> String {
        self.blank.sort_unstable();
        self.put.sort_unstable();
        let code = self.code;
        let mut put = self.put.iter().peekable();
        let mut out = String::with_capacity(code.len());
        let mut copied = 0;
        for &(start, end) in &self.blank {
            let (start, end) = (start.max(copied), end.min(code.len()));
            if start >= end {
                continue;
            }
            out.push_str(&code[copied..start]);
            for (offset, c) in code[start..end].char_indices() {
                let at = start + offset;
                while put.next_if(|(p, _)| *p < at).is_some() {}
                if matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}') {
                    out.push(c);
                } else {
                    match put.next_if(|(p, _)| *p == at) {
                        Some((_, replacement)) => out.push(*replacement),
                        None => out.push(' '),
                    }
                    // QuickJS counts columns in bytes.
                    for _ in 1..c.len_utf8() {
                        out.push(' ');
                    }
                }
            }
            copied = end;
        }
        out.push_str(&code[copied..]);
        out
    }
}

/// A namespace is removed whole when it declares only types.
fn namespace_is_type_only(body: &TSNamespaceDeclarationBody) -> bool {
    let block = match body {
        TSNamespaceDeclarationBody::TSNamespaceDeclaration(inner) => {
            return namespace_is_type_only(&inner.body);
        }
        TSNamespaceDeclarationBody::TSModuleBlock(block) => block,
    };
    block.body.iter().all(|statement| match statement {
        Statement::TSTypeAliasDeclaration(_) | Statement::TSInterfaceDeclaration(_) => true,
        Statement::ExportDeclaration(export) => matches!(
            export.declaration,
            Declaration::TSTypeAliasDeclaration(_) | Declaration::TSInterfaceDeclaration(_)
        ),
        Statement::TSNamespaceDeclaration(inner) => namespace_is_type_only(&inner.body),
        _ => false,
    })
}

impl<'a> Visit<'a> for Blanker<'_> {
    fn visit_declaration(&mut self, it: &Declaration<'a>) {
        if self.is_type_only(it) {
            self.blank_statement(it.span());
        } else {
            walk::walk_declaration(self, it);
        }
    }

    fn visit_export_declaration(&mut self, it: &ExportDeclaration<'a>) {
        if self.is_type_only(&it.declaration) {
            self.blank_statement(it.span);
        } else {
            walk::walk_export_declaration(self, it);
        }
    }

    fn visit_export_default_declaration(&mut self, it: &ExportDefaultDeclaration<'a>) {
        let type_only = match &it.declaration {
            ExportDefaultDeclarationKind::TSInterfaceDeclaration(_) => true,
            ExportDefaultDeclarationKind::FunctionDeclaration(f) => f.body.is_none(),
            ExportDefaultDeclarationKind::ClassDeclaration(c) => c.declare,
            _ => false,
        };
        if type_only {
            self.blank_statement(it.span);
        } else {
            walk::walk_export_default_declaration(self, it);
        }
    }

    fn visit_import_declaration(&mut self, it: &ImportDeclaration<'a>) {
        let specifiers: &[ImportDeclarationSpecifier] = it.specifiers.as_deref().map_or(&[], |s| s);
        let is_type = |s: &ImportDeclarationSpecifier| matches!(s, ImportDeclarationSpecifier::ImportSpecifier(s) if s.import_kind.is_type());
        if it.import_kind.is_type() || (!specifiers.is_empty() && specifiers.iter().all(is_type)) {
            self.blank_statement(it.span);
            return;
        }
        for specifier in specifiers.iter().filter(|s| is_type(s)) {
            self.blank(specifier.span());
            self.blank_token_after(specifier.span().end, false, b',');
        }
    }

    fn visit_export_named_declaration(&mut self, it: &ExportNamedDeclaration<'a>) {
        self.blank_export_specifiers(it.span, it.export_kind, &it.specifiers);
    }

    fn visit_export_from_declaration(&mut self, it: &ExportFromDeclaration<'a>) {
        self.blank_export_specifiers(it.span, it.export_kind, &it.specifiers);
    }

    fn visit_export_all_declaration(&mut self, it: &ExportAllDeclaration<'a>) {
        if it.export_kind.is_type() {
            self.blank_statement(it.span);
        }
    }

    fn visit_ts_export_assignment(&mut self, it: &TSExportAssignment<'a>) {
        self.refuse(
            it.span.start,
            "`export =` needs emitted code and modules, which this sandbox does not have",
        );
    }

    fn visit_ts_namespace_export_declaration(&mut self, it: &TSNamespaceExportDeclaration<'a>) {
        self.blank_statement(it.span);
    }

    fn visit_ts_type_annotation(&mut self, it: &TSTypeAnnotation<'a>) {
        self.blank(it.span);
    }

    fn visit_ts_type_parameter_declaration(&mut self, it: &TSTypeParameterDeclaration<'a>) {
        self.blank(it.span);
    }

    fn visit_ts_type_parameter_instantiation(&mut self, it: &TSTypeParameterInstantiation<'a>) {
        self.blank(it.span);
    }

    fn visit_ts_this_parameter(&mut self, it: &TSThisParameter<'a>) {
        self.blank(it.span);
        self.blank_token_after(it.span.end, false, b',');
    }

    fn visit_ts_as_expression(&mut self, it: &TSAsExpression<'a>) {
        self.blank(Span::new(it.expression.span().end, it.span.end));
        self.visit_expression(&it.expression);
    }

    fn visit_ts_satisfies_expression(&mut self, it: &TSSatisfiesExpression<'a>) {
        self.blank(Span::new(it.expression.span().end, it.span.end));
        self.visit_expression(&it.expression);
    }

    fn visit_ts_non_null_expression(&mut self, it: &TSNonNullExpression<'a>) {
        self.blank(Span::new(it.expression.span().end, it.span.end));
        self.visit_expression(&it.expression);
    }

    fn visit_ts_type_assertion(&mut self, it: &TSTypeAssertion<'a>) {
        self.blank(Span::new(it.span.start, it.expression.span().start));
        self.visit_expression(&it.expression);
    }

    fn visit_ts_instantiation_expression(&mut self, it: &TSInstantiationExpression<'a>) {
        self.blank(it.type_arguments.span);
        self.visit_expression(&it.expression);
    }

    fn visit_formal_parameter(&mut self, it: &FormalParameter<'a>) {
        self.refuse_decorators(&it.decorators);
        if it.accessibility.is_some() || it.readonly || it.r#override {
            self.refuse(
                it.span.start,
                "parameter properties (`constructor(private x)`) need emitted code, which this sandbox does not generate: declare the field and assign it in the constructor",
            );
        }
        if it.optional {
            self.blank_token_after(it.pattern.span().end, false, b'?');
        }
        walk::walk_formal_parameter(self, it);
    }

    fn visit_formal_parameter_rest(&mut self, it: &FormalParameterRest<'a>) {
        self.refuse_decorators(&it.decorators);
        walk::walk_formal_parameter_rest(self, it);
    }

    fn visit_variable_declarator(&mut self, it: &VariableDeclarator<'a>) {
        if it.definite {
            self.blank_token_after(it.id.span().end, false, b'!');
        }
        walk::walk_variable_declarator(self, it);
    }

    fn visit_function(&mut self, it: &Function<'a>, flags: ScopeFlags) {
        if it.body.is_none() {
            // An overload signature or a `declare function`.
            self.blank_statement(it.span);
        } else {
            walk::walk_function(self, it, flags);
        }
    }

    fn visit_arrow_function_expression(&mut self, it: &ArrowFunctionExpression<'a>) {
        if let Some(return_type) = &it.return_type {
            let between = &self.code[it.params.span.end as usize..return_type.span.end as usize];
            if between.contains(['\n', '\r', '\u{2028}', '\u{2029}']) {
                // `(a):\n T => a` would become `(a)\n => a`: move the `)`.
                self.blank(Span::new(it.params.span.end - 1, it.params.span.end));
                self.put.push((return_type.span.end as usize - 1, ')'));
            }
        }
        walk::walk_arrow_function_expression(self, it);
    }

    fn visit_class(&mut self, it: &Class<'a>) {
        self.refuse_decorators(&it.decorators);
        if it.r#abstract {
            let name_or_body = it
                .id
                .as_ref()
                .map_or(it.body.span.start, |id| id.span.start);
            self.blank_modifiers(it.span.start, name_or_body);
        }
        if let (Some(first), Some(last)) = (it.implements.first(), it.implements.last()) {
            let keyword = self.code[..first.span.start as usize]
                .rfind("implements")
                .unwrap_or(first.span.start as usize);
            self.blank(Span::new(keyword as u32, last.span.end));
        }
        walk::walk_class(self, it);
    }

    fn visit_class_element(&mut self, it: &ClassElement<'a>) {
        match it {
            ClassElement::TSIndexSignature(signature) => self.blank_statement(signature.span),
            ClassElement::MethodDefinition(method) => {
                self.refuse_decorators(&method.decorators);
                if method.r#type.is_abstract() || method.value.body.is_none() {
                    self.blank_statement(method.span);
                    return;
                }
                self.blank_modifiers(method.span.start, method.key.span().start);
                if method.optional {
                    self.blank_token_after(method.key.span().end, method.computed, b'?');
                }
                walk::walk_method_definition(self, method);
            }
            ClassElement::PropertyDefinition(property) => {
                self.refuse_decorators(&property.decorators);
                if property.declare || property.r#type.is_abstract() {
                    self.blank_statement(property.span);
                    return;
                }
                self.blank_modifiers(property.span.start, property.key.span().start);
                if property.optional {
                    self.blank_token_after(property.key.span().end, property.computed, b'?');
                }
                if property.definite {
                    self.blank_token_after(property.key.span().end, property.computed, b'!');
                }
                walk::walk_property_definition(self, property);
            }
            ClassElement::AccessorProperty(accessor) => {
                self.refuse_decorators(&accessor.decorators);
                if accessor.r#type.is_abstract() {
                    self.blank_statement(accessor.span);
                    return;
                }
                self.blank_modifiers(accessor.span.start, accessor.key.span().start);
                walk::walk_accessor_property(self, accessor);
            }
            ClassElement::StaticBlock(_) => walk::walk_class_element(self, it),
        }
    }
}

impl Blanker<'_> {
    /// `export { type A, b }` and `export type { A }`.
    fn blank_export_specifiers(
        &mut self,
        span: Span,
        kind: ImportOrExportKind,
        specifiers: &[ExportSpecifier],
    ) {
        let is_type = |s: &&ExportSpecifier| s.export_kind.is_type();
        if kind.is_type() || (!specifiers.is_empty() && specifiers.iter().all(|s| is_type(&s))) {
            self.blank_statement(span);
            return;
        }
        for specifier in specifiers.iter().filter(is_type) {
            self.blank(specifier.span);
            self.blank_token_after(specifier.span.end, false, b',');
        }
    }
}
