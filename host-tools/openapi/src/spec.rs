//! OpenAPI 3.0 and 3.1 descriptions, read into the operations an API
//! offers.
//!
//! Each operation becomes one function of the API's namespace, taking one
//! object: its path, query and header parameters as properties and its
//! request body as `body` ([`Operation::input_schema`]), and resolving to
//! the response contract of [`contract`](crate::contract) around the success
//! response's schema. [`Operation::method`] is that function as the
//! runtime's one method model; [`typescript`](crate::typescript) declares
//! it.
//!
//! The description is read as a `serde_json::Value` and walked leniently: an
//! odd part (a path item that is not an object, an unknown parameter
//! location) is skipped rather than failing the whole description. Only what
//! makes the description unusable is an error: not JSON or YAML, Swagger 2.0,
//! or no OpenAPI 3 version.

use std::collections::HashSet;
use std::fmt;

use codemode_runtime::MethodDescription;
use codemode_typescript::names::{Names, Taken};
use codemode_typescript::pointer;
use codemode_typescript::schema::Scope;
use serde_json::{Map, Value, json};

use crate::contract::{REQUEST, response_schema};

/// What can go wrong reading an OpenAPI description.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// The text looked like JSON but does not parse.
    #[error("the description is not valid JSON at line {line}, column {column}")]
    Json {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the parser said.
        #[source]
        source: serde_json::Error,
    },
    /// The text is not valid YAML (nor JSON).
    #[error("the description is not valid YAML at line {line}, column {column}")]
    Yaml {
        /// 1-based line of the error (0 if unknown).
        line: usize,
        /// 1-based column of the error (0 if unknown).
        column: usize,
        /// What the parser said.
        #[source]
        source: serde_norway::Error,
    },
    /// A Swagger 2.0 description: only OpenAPI 3 is read.
    #[error(
        "Swagger {version} descriptions are not supported: convert it to OpenAPI 3 first, for example with `npx swagger2openapi swagger.json -o openapi.json`"
    )]
    Swagger {
        /// The `swagger` field.
        version: String,
    },
    /// No `openapi` field.
    #[error("the description has no `openapi` field: expected an OpenAPI 3.0 or 3.1 description")]
    MissingVersion,
    /// An `openapi` field that is not 3.0.x or 3.1.x.
    #[error("unsupported OpenAPI version `{version}`: expected 3.0.x or 3.1.x")]
    UnsupportedVersion {
        /// The `openapi` field.
        version: String,
    },
    /// The description is not a JSON object.
    #[error("the description must be an object, found {found}")]
    NotAnObject {
        /// What it is instead (`an array`, `a string`, ...).
        found: &'static str,
    },
}

type Result<T, E = SpecError> = std::result::Result<T, E>;

/// What kind of JSON value `value` is, for messages: `null`, `a boolean`,
/// `a number`, `a string`, `an array` or `an object`.
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// HTTP methods that can hold an operation in a path item.
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Where a parameter goes in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Location {
    /// A `{name}` segment of the path.
    Path,
    /// The query string.
    Query,
    /// A request header.
    Header,
    /// A cookie (not an argument: a connector sets its own cookies).
    Cookie,
}

impl Location {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "path" => Some(Self::Path),
            "query" => Some(Self::Query),
            "header" => Some(Self::Header),
            "cookie" => Some(Self::Cookie),
            _ => None,
        }
    }

    /// The name OpenAPI uses (`path`, `query`, `header`, `cookie`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Path => "path",
            Self::Query => "query",
            Self::Header => "header",
            Self::Cookie => "cookie",
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One parameter of an operation.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Parameter {
    /// The parameter's name in the request.
    pub name: String,
    /// Where it goes.
    pub location: Location,
    /// Whether it must be given (path parameters always must).
    pub required: bool,
    /// Its JSON Schema (`{}` when the description gives none).
    pub schema: Value,
    /// What it means.
    pub description: Option<String>,
    /// Whether it is deprecated.
    pub deprecated: bool,
    /// The property of the argument object that carries it: the name, or
    /// `<location>_<name>` when a parameter in an earlier location (path,
    /// then query, then header) or the body already has that name. Cookies
    /// have none.
    pub property: Option<String>,
    /// Whether an array value is sent as one `name=value` pair per item
    /// (`explode`, the default for query parameters) rather than as one
    /// comma-separated value.
    pub explode: bool,
}

/// The request body of an operation.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RequestBody {
    /// The media type whose schema was taken: JSON when there is one.
    pub media_type: String,
    /// Whether the body must be given.
    pub required: bool,
    /// Its JSON Schema.
    pub schema: Value,
    /// What it holds.
    pub description: Option<String>,
    /// Its fields, when they sit beside the parameters in the argument
    /// object, as Octokit and most generated clients put them: for a JSON
    /// object body with `properties` (and no open `additionalProperties`).
    /// Empty when the body goes under `body`.
    pub fields: Vec<BodyField>,
}

/// A field of a request body given beside the parameters.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BodyField {
    /// Its name in the body.
    pub name: String,
    /// The property of the argument object that carries it: the name, or
    /// `body_<name>` when a parameter has that name.
    pub property: String,
    /// Whether the body's schema requires it.
    pub required: bool,
    /// Its JSON Schema.
    pub schema: Value,
}

/// The success response of an operation.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Response {
    /// Its status key: the first `2xx` (or `2XX`), else `default`.
    pub status: String,
    /// The media type whose schema was taken, `None` without content.
    pub media_type: Option<String>,
    /// Its JSON Schema, `None` without content (the function returns `void`).
    pub schema: Option<Value>,
    /// What it holds.
    pub description: Option<String>,
}

/// One operation of an OpenAPI description.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Operation {
    /// The function name: the `operationId` made an identifier through
    /// [`Names`], else the method and path (`get_repos_owner_repo`).
    pub name: String,
    /// The `operationId` as written.
    pub operation_id: Option<String>,
    /// The HTTP method, upper case.
    pub method: String,
    /// The path template (`/repos/{owner}/{repo}`).
    pub path: String,
    /// One line on what it does.
    pub summary: Option<String>,
    /// What it does, at length.
    pub description: Option<String>,
    /// Its tags.
    pub tags: Vec<String>,
    /// Whether it is deprecated.
    pub deprecated: bool,
    /// Path-level and operation-level parameters, merged (operation-level
    /// wins), with `$ref`s resolved.
    pub parameters: Vec<Parameter>,
    /// The request body, if any.
    pub request_body: Option<RequestBody>,
    /// The success response, if the description names one.
    pub response: Option<Response>,
}

impl Operation {
    /// JSON Schema of the argument object: one property per path, query and
    /// header parameter and `body` for the request body. `$ref`s still point
    /// into the description (`#/components/schemas/...`).
    pub fn input_schema(&self) -> Value {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for parameter in &self.parameters {
            let Some(property) = &parameter.property else {
                continue;
            };
            let mut schema = match &parameter.schema {
                Value::Object(map) => map.clone(),
                Value::Bool(false) => Map::from_iter([("not".to_owned(), json!({}))]),
                _ => Map::new(),
            };
            let mut description = parameter.description.clone().unwrap_or_default();
            if *property != parameter.name {
                if !description.is_empty() {
                    description.push_str("\n\n");
                }
                description.push_str(&format!(
                    "Sent as the `{}` {} parameter.",
                    parameter.name, parameter.location
                ));
            }
            if !description.is_empty() {
                schema.insert("description".to_owned(), Value::String(description));
            }
            if parameter.deprecated {
                schema.insert("deprecated".to_owned(), Value::Bool(true));
            }
            if parameter.required {
                required.push(Value::String(property.clone()));
            }
            properties.insert(property.clone(), Value::Object(schema));
        }
        if let Some(body) = self.request_body.as_ref().filter(|b| !b.fields.is_empty()) {
            for field in &body.fields {
                let mut schema = match &field.schema {
                    Value::Object(map) => map.clone(),
                    _ => Map::new(),
                };
                if field.property != field.name {
                    let said = schema.get("description").and_then(Value::as_str);
                    let renamed =
                        format!("Sent as the `{}` field of the request body.", field.name);
                    let description = match said {
                        Some(said) => format!("{said}\n\n{renamed}"),
                        None => renamed,
                    };
                    schema.insert("description".to_owned(), Value::String(description));
                }
                if body.required && field.required {
                    required.push(Value::String(field.property.clone()));
                }
                properties.insert(field.property.clone(), Value::Object(schema));
            }
        } else if let Some(body) = &self.request_body {
            let mut schema = body.schema.clone();
            if let (Value::Object(map), Some(description)) = (&mut schema, &body.description)
                && !map.contains_key("description")
            {
                map.insert("description".to_owned(), Value::String(description.clone()));
            }
            if body.required {
                required.push(Value::String("body".to_owned()));
            }
            properties.insert("body".to_owned(), schema);
        }
        json!({
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        })
    }

    /// JSON Schema of the success response, `None` when it has no content.
    pub fn output_schema(&self) -> Option<&Value> {
        self.response.as_ref()?.schema.as_ref()
    }

    /// The operation as the function its API's namespace offers: the
    /// summary and description, the argument schema, the response contract
    /// around the success response's schema (`$ref`s still into the
    /// description), `METHOD /path`, tags, deprecation, and whether it is
    /// read-only (`GET`, `HEAD` and `OPTIONS` are).
    pub fn method(&self) -> MethodDescription {
        let description: Vec<&str> = [&self.summary, &self.description]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        let body = self.output_schema().cloned().unwrap_or(Value::Null);
        MethodDescription::new(&self.name, description.join("\n\n"))
            .input_schema(self.input_schema())
            .output_schema(response_schema(body))
            .path(format!("{} {}", self.method, self.path))
            .tags(self.tags.iter().cloned())
            .deprecated(self.deprecated)
            .read_only(READ_ONLY_METHODS.contains(&self.method.as_str()))
    }
}

/// The HTTP methods whose operations change nothing, for an approval
/// policy's read-only default.
const READ_ONLY_METHODS: &[&str] = &["GET", "HEAD", "OPTIONS"];

/// A parsed OpenAPI 3.0 or 3.1 description.
#[derive(Debug, Clone)]
pub struct Spec {
    document: Value,
    version: String,
    operations: Vec<Operation>,
    /// `(reference, type name)` for every `components.schemas` entry.
    pub(crate) types: Vec<(String, String)>,
}

impl Spec {
    /// Parses a description from JSON (text starting with `{`) or YAML.
    ///
    /// # Errors
    ///
    /// [`SpecError::Json`] or [`SpecError::Yaml`] with the line and column when the
    /// text does not parse, and the errors of [`from_value`](Self::from_value).
    pub fn parse(text: &str) -> Result<Self> {
        let document: Value = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|source| SpecError::Json {
                line: source.line(),
                column: source.column(),
                source,
            })?
        } else {
            serde_norway::from_str(text).map_err(|source| {
                let location = source.location();
                SpecError::Yaml {
                    line: location.as_ref().map_or(0, |l| l.line()),
                    column: location.as_ref().map_or(0, |l| l.column()),
                    source,
                }
            })?
        };
        Self::from_value(document)
    }

    /// A description already parsed into a JSON value.
    ///
    /// # Errors
    ///
    /// [`SpecError::Swagger`] for Swagger 2.0, [`SpecError::MissingVersion`] without
    /// an `openapi` field, [`SpecError::UnsupportedVersion`] for a version other
    /// than 3.0.x or 3.1.x, and [`SpecError::NotAnObject`].
    pub fn from_value(document: Value) -> Result<Self> {
        let Value::Object(top) = &document else {
            return Err(SpecError::NotAnObject {
                found: json_kind(&document),
            });
        };
        if let Some(version) = top.get("swagger") {
            return Err(SpecError::Swagger {
                version: tag_text(version),
            });
        }
        let version = match top.get("openapi") {
            None => return Err(SpecError::MissingVersion),
            Some(Value::String(v)) if v.starts_with("3.0") || v.starts_with("3.1") => v.clone(),
            Some(other) => {
                return Err(SpecError::UnsupportedVersion {
                    version: tag_text(other),
                });
            }
        };
        let keys: Vec<&str> = match top.get("components").and_then(|c| c.get("schemas")) {
            Some(Value::Object(schemas)) => schemas.keys().map(String::as_str).collect(),
            _ => Vec::new(),
        };
        let type_names = Names::types(&keys);
        let types = keys
            .iter()
            .filter_map(|key| {
                let name = type_names.identifier(key)?;
                Some((pointer::child("#/components/schemas", key), name.to_owned()))
            })
            .collect();
        let operations = read_operations(&document);
        Ok(Self {
            document,
            version,
            operations,
            types,
        })
    }

    /// The `openapi` version (`3.0.3`, `3.1.0`, ...).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The description as parsed.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// The description as parsed, taken out.
    pub fn into_document(self) -> Value {
        self.document
    }

    /// Every operation, in the order of the description.
    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// The operation whose function name is `name`.
    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.iter().find(|op| op.name == name)
    }

    /// The `components.schemas` entries that `operations` need (directly or
    /// through other schemas), as `(key, schema)` pairs in the order of the
    /// description: what a JSON listing ships beside the operations' schemas.
    pub fn schemas_for(&self, operations: &[&Operation]) -> Vec<(&str, &Value)> {
        let scope = self.scope();
        let inputs: Vec<Value> = operations.iter().map(|op| op.input_schema()).collect();
        let outputs = operations.iter().filter_map(|op| op.output_schema());
        let needed: HashSet<String> = scope
            .closure(inputs.iter().chain(outputs))
            .into_iter()
            .collect();
        let Some(Value::Object(schemas)) = self.document.pointer("/components/schemas") else {
            return Vec::new();
        };
        schemas
            .iter()
            .filter(|(key, _)| needed.contains(&pointer::child("#/components/schemas", key)))
            .map(|(key, schema)| (key.as_str(), schema))
            .collect()
    }

    pub(crate) fn scope(&self) -> Scope<'_> {
        let mut scope = Scope::new(&self.document);
        for (reference, name) in &self.types {
            scope.define(reference.clone(), name.clone());
        }
        scope
    }
}

fn tag_text(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

/// The object `value` is, or its `$ref`s lead to.
fn follow<'v>(document: &'v Value, value: &'v Value) -> Option<&'v Map<String, Value>> {
    pointer::follow(document, value)?.as_object()
}

fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn read_operations(document: &Value) -> Vec<Operation> {
    let Some(Value::Object(paths)) = document.get("paths") else {
        return Vec::new();
    };
    let mut operations = Vec::new();
    for (path, item) in paths {
        let Some(item) = follow(document, item) else {
            continue;
        };
        let shared = read_parameters(document, item.get("parameters"));
        for (method, operation) in item {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let Some(operation) = follow(document, operation) else {
                continue;
            };
            let mut parameters = shared.clone();
            for parameter in read_parameters(document, operation.get("parameters")) {
                match parameters
                    .iter_mut()
                    .find(|p| p.name == parameter.name && p.location == parameter.location)
                {
                    Some(existing) => *existing = parameter,
                    None => parameters.push(parameter),
                }
            }
            let mut request_body = operation
                .get("requestBody")
                .and_then(|body| follow(document, body))
                .and_then(|body| {
                    let (media_type, schema) = pick_content(body.get("content"))?;
                    let schema = schema.unwrap_or_else(|| json!({}));
                    Some(RequestBody {
                        fields: body_fields(document, &media_type, &schema),
                        media_type,
                        required: body.get("required") == Some(&Value::Bool(true)),
                        schema,
                        description: text(body, "description"),
                    })
                });
            assign_properties(&mut parameters, request_body.as_mut());
            operations.push(Operation {
                name: String::new(),
                operation_id: text(operation, "operationId"),
                method: method.to_uppercase(),
                path: path.clone(),
                summary: text(operation, "summary"),
                description: text(operation, "description"),
                tags: match operation.get("tags") {
                    Some(Value::Array(tags)) => tags
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect(),
                    _ => Vec::new(),
                },
                deprecated: operation.get("deprecated") == Some(&Value::Bool(true)),
                parameters,
                request_body,
                response: read_response(document, operation.get("responses")),
            });
        }
    }
    let originals: Vec<String> = operations
        .iter()
        .map(|op| {
            op.operation_id
                .clone()
                .unwrap_or_else(|| fallback_name(&op.method, &op.path))
        })
        .collect();
    let names = Names::avoiding(&[REQUEST], &originals);
    for (operation, original) in operations.iter_mut().zip(&originals) {
        operation.name = names.identifier(original).unwrap_or(original).to_owned();
    }
    operations
}

/// `get_repos_owner_repo` for `GET /repos/{owner}/{repo}`.
fn fallback_name(method: &str, path: &str) -> String {
    let mut name = method.to_lowercase();
    for word in path
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        name.push('_');
        name.push_str(word);
    }
    name
}

fn read_parameters(document: &Value, list: Option<&Value>) -> Vec<Parameter> {
    let Some(Value::Array(list)) = list else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|parameter| {
            let parameter = follow(document, parameter)?;
            let location = Location::parse(parameter.get("in")?.as_str()?)?;
            let schema = match parameter.get("schema") {
                Some(schema) => schema.clone(),
                None => pick_content(parameter.get("content"))
                    .and_then(|(_, schema)| schema)
                    .unwrap_or_else(|| json!({})),
            };
            Some(Parameter {
                name: text(parameter, "name")?,
                location,
                required: location == Location::Path
                    || parameter.get("required") == Some(&Value::Bool(true)),
                schema,
                description: text(parameter, "description"),
                deprecated: parameter.get("deprecated") == Some(&Value::Bool(true)),
                property: None,
                explode: match parameter.get("explode") {
                    Some(Value::Bool(explode)) => *explode,
                    _ => matches!(location, Location::Query | Location::Cookie),
                },
            })
        })
        .collect()
}

/// Gives each non-cookie parameter its argument property: its name if free,
/// else `<location>_<name>`. Path parameters choose first, then query, then
/// header; `body` is reserved for the request body. Then each field of a
/// body given beside them: its name if free, else `body_<name>` (a field
/// named `body` takes `body`, told from the whole body by its value).
fn assign_properties(parameters: &mut [Parameter], body: Option<&mut RequestBody>) {
    let mut taken = Taken::default();
    if body.is_some() {
        taken.claim("body".to_owned());
    }
    for location in [Location::Path, Location::Query, Location::Header] {
        for parameter in parameters.iter_mut().filter(|p| p.location == location) {
            let property = if taken.contains(&parameter.name) {
                taken.claim(format!("{location}_{}", parameter.name))
            } else {
                taken.claim(parameter.name.clone())
            };
            parameter.property = Some(property);
        }
    }
    for field in body.into_iter().flat_map(|body| body.fields.iter_mut()) {
        field.property = if field.name == "body" {
            field.name.clone()
        } else if taken.contains(&field.name) {
            taken.claim(format!("body_{}", field.name))
        } else {
            taken.claim(field.name.clone())
        };
    }
}

/// The fields of a request body that can sit beside the parameters: those
/// of a JSON body whose schema (after `$ref`s) is an object with
/// `properties` and no open `additionalProperties`, or a `oneOf`/`anyOf`
/// whose objects have properties (their union, none required: GitHub's
/// `labels` bodies are an object or an array). None otherwise.
fn body_fields(document: &Value, media_type: &str, schema: &Value) -> Vec<BodyField> {
    let Some(object) = follow(document, schema).filter(|_| is_json(media_type)) else {
        return Vec::new();
    };
    if ["allOf", "not", "if"]
        .iter()
        .any(|key| object.contains_key(*key))
    {
        return Vec::new();
    }
    let alternatives = ["oneOf", "anyOf"]
        .iter()
        .find_map(|key| object.get(*key).and_then(Value::as_array));
    match alternatives {
        Some(alternatives) if !object.contains_key("properties") => {
            let mut fields: Vec<BodyField> = Vec::new();
            for alternative in alternatives {
                let Some(alternative) = follow(document, alternative) else {
                    continue;
                };
                for mut field in object_fields(alternative) {
                    if !fields.iter().any(|known| known.name == field.name) {
                        field.required = false;
                        fields.push(field);
                    }
                }
            }
            fields
        }
        Some(_) => Vec::new(),
        None => object_fields(object),
    }
}

/// The properties of an object schema with `properties` and no open
/// `additionalProperties`, as fields; none for another schema.
fn object_fields(object: &Map<String, Value>) -> Vec<BodyField> {
    let open = matches!(
        object.get("additionalProperties"),
        Some(Value::Bool(true) | Value::Object(_))
    );
    let typed_object = match object.get("type") {
        None => true,
        Some(Value::String(kind)) => kind == "object",
        Some(_) => false,
    };
    let Some(Value::Object(properties)) = object.get("properties") else {
        return Vec::new();
    };
    if open || !typed_object {
        return Vec::new();
    }
    let required: Vec<&str> = match object.get("required") {
        Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    properties
        .iter()
        .map(|(name, schema)| BodyField {
            name: name.clone(),
            property: name.clone(),
            required: required.contains(&name.as_str()),
            schema: schema.clone(),
        })
        .collect()
}

/// Whether `media` (parameters and case aside) is a JSON type: `…/json` or
/// `…+json`.
fn is_json(media: &str) -> bool {
    let media = media
        .split(';')
        .next()
        .unwrap_or(media)
        .trim()
        .to_ascii_lowercase();
    media.ends_with("/json") || media.ends_with("+json")
}

/// The media type and schema to use from a `content` map: `application/json`,
/// else any `+json` or `/json` type, else the first.
fn pick_content(content: Option<&Value>) -> Option<(String, Option<Value>)> {
    let Some(Value::Object(content)) = content else {
        return None;
    };
    let (media_type, media) = content
        .iter()
        .find(|(media, _)| media.starts_with("application/json"))
        .or_else(|| content.iter().find(|(media, _)| is_json(media)))
        .or_else(|| content.iter().next())?;
    Some((media_type.clone(), media.get("schema").cloned()))
}

fn read_response(document: &Value, responses: Option<&Value>) -> Option<Response> {
    let Some(Value::Object(responses)) = responses else {
        return None;
    };
    let (status, response) = responses
        .iter()
        .find(|(status, _)| status.starts_with('2'))
        .or_else(|| responses.iter().find(|(status, _)| *status == "default"))?;
    let response = follow(document, response)?;
    let content = if status == "204" {
        None
    } else {
        pick_content(response.get("content"))
    };
    let (media_type, schema) = match content {
        Some((media_type, schema)) => (Some(media_type), Some(schema.unwrap_or_else(|| json!({})))),
        None => (None, None),
    };
    Some(Response {
        status: status.clone(),
        media_type,
        schema,
        description: text(response, "description"),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const PETS: &str = r##"
openapi: 3.1.0
info: {title: pets, version: "1"}
paths:
  /pets/{id}:
    parameters:
      - {name: id, in: path, schema: {type: integer}}
      - {$ref: "#/components/parameters/limit"}
    get:
      operationId: pets/get-one
      summary: Get a pet
      tags: [pets]
      parameters:
        - {name: id, in: query, schema: {type: string}, description: Also an id}
        - {name: X-Trace, in: header, required: true, schema: {type: string}}
        - {name: session, in: cookie, schema: {type: string}}
      responses:
        "200": {$ref: "#/components/responses/pet"}
    delete:
      deprecated: true
      responses:
        "204": {description: gone}
  /pets:
    post:
      requestBody:
        required: true
        content:
          text/plain: {schema: {type: string}}
          application/vnd.pet+json: {schema: {$ref: "#/components/schemas/pet"}}
      responses:
        default: {description: whatever, content: {application/json: {schema: {type: ["string", "null"]}}}}
  /health:
    get:
      responses:
        "204": {description: ok}
components:
  parameters:
    limit: {name: limit, in: query, required: true, schema: {type: integer, minimum: 1}}
  responses:
    pet: {description: The pet, content: {application/json: {schema: {$ref: "#/components/schemas/pet"}}}}
  schemas:
    pet:
      type: object
      required: [name]
      properties:
        name: {type: string}
        friends: {type: array, items: {$ref: "#/components/schemas/pet"}}
"##;

    #[test]
    fn operations() -> Result<()> {
        let spec = Spec::parse(PETS)?;
        assert_eq!(spec.version(), "3.1.0");
        let names: Vec<&str> = spec
            .operations()
            .iter()
            .map(|op| op.name.as_str())
            .collect();
        assert_eq!(
            names,
            ["pets_get_one", "delete_pets_id", "post_pets", "get_health"]
        );
        let get = &spec.operations()[0];
        let params: Vec<(&str, Location, bool, Option<&str>)> = get
            .parameters
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.location,
                    p.required,
                    p.property.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            params,
            [
                ("id", Location::Path, true, Some("id")),
                ("limit", Location::Query, true, Some("limit")),
                ("id", Location::Query, false, Some("query_id")),
                ("X-Trace", Location::Header, true, Some("X-Trace")),
                ("session", Location::Cookie, false, None),
            ]
        );
        assert_eq!(
            get.output_schema(),
            Some(&json!({"$ref": "#/components/schemas/pet"}))
        );
        assert_eq!(spec.operations()[1].output_schema(), None);
        let post = &spec.operations()[2];
        let body = post.request_body.as_ref().map(|b| b.media_type.as_str());
        assert_eq!(body, Some("application/vnd.pet+json"));
        assert_eq!(
            post.response.as_ref().map(|r| r.status.as_str()),
            Some("default")
        );
        Ok(())
    }

    #[test]
    fn get_head_and_options_are_read_only() -> Result<()> {
        let spec = Spec::parse(
            r#"{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/p": {
                "get": {}, "head": {}, "options": {}, "post": {}, "put": {},
                "patch": {}, "delete": {}, "trace": {}}}}"#,
        )?;
        let read_only: std::collections::BTreeMap<&str, bool> = spec
            .operations()
            .iter()
            .map(|op| (op.method.as_str(), op.method().read_only))
            .collect();
        let expected = [
            ("DELETE", false),
            ("GET", true),
            ("HEAD", true),
            ("OPTIONS", true),
            ("PATCH", false),
            ("POST", false),
            ("PUT", false),
            ("TRACE", false),
        ];
        assert_eq!(read_only, expected.into_iter().collect());
        Ok(())
    }

    #[test]
    fn errors() {
        let message = |text: &str| Spec::parse(text).err().map(|e| e.to_string());
        assert_eq!(
            message(r#"{"swagger": "2.0"}"#).as_deref(),
            Some(
                "Swagger 2.0 descriptions are not supported: convert it to OpenAPI 3 first, for example with `npx swagger2openapi swagger.json -o openapi.json`"
            )
        );
        assert_eq!(
            message("{}").as_deref(),
            Some(
                "the description has no `openapi` field: expected an OpenAPI 3.0 or 3.1 description"
            )
        );
        assert_eq!(
            message("openapi: 2.5").as_deref(),
            Some("unsupported OpenAPI version `2.5`: expected 3.0.x or 3.1.x")
        );
        assert_eq!(
            message("{\"openapi\": \"3.0.0\",\n  \"paths\": {,}}").as_deref(),
            Some("the description is not valid JSON at line 2, column 13")
        );
        assert_eq!(
            message("openapi: 3.0.0\npaths: [a\n").as_deref(),
            Some("the description is not valid YAML at line 3, column 1")
        );
        assert_eq!(
            message("- 1").as_deref(),
            Some("the description must be an object, found an array")
        );
    }
}
