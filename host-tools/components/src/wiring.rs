//! A composition read back: for each instance inside it, where each of its
//! imports comes from (an import of the whole composition, or an export of
//! another instance), from the component's own sections. How a user (and
//! the tests) see that the interpreter's only way out is the host
//! component: `codemode component http --wiring`.

use std::collections::HashMap;

use wasmparser::{
    CanonicalFunction, ComponentAlias, ComponentExternalKind, ComponentInstance, ComponentName,
    ComponentTypeRef, KnownCustom, Parser, Payload,
};

/// An instance of a composition, named as the composition names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    /// Its name (`interpreter`, `host`, …), or `#N`.
    pub name: String,
    /// What it is instantiated with, in order.
    pub arguments: Vec<Argument>,
}

/// One import of an instance, and what satisfies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Argument {
    /// The import's name (`codemode:sandbox/host@0.1.0`).
    pub import: String,
    /// Where it comes from.
    pub source: Source,
}

/// Where an instance's import comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The composition's own import of this name: the host provides it.
    Import(String),
    /// Another instance's export.
    Export {
        /// The instance's name.
        instance: String,
        /// The export's name.
        export: String,
    },
    /// A type, or an item this reader does not follow.
    Other,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Import(name) => write!(f, "the host's `{name}`"),
            Self::Export { instance, export } => write!(f, "`{instance}`'s `{export}`"),
            Self::Other => write!(f, "a type"),
        }
    }
}

/// Why a composition could not be read.
#[derive(Debug, thiserror::Error)]
#[error("the component could not be read: {0}")]
pub struct WiringError(#[from] wasmparser::BinaryReaderError);

/// What an index of the top-level instance or function space stands for.
#[derive(Clone)]
enum Item {
    Import(String),
    Export { instance: u32, export: String },
    Instantiated,
    Other,
}

/// An instantiation argument as the section has it: name, kind, index.
type Raw = (String, ComponentExternalKind, u32);

/// The instances of the composition `component`, with what each is
/// instantiated with.
///
/// # Errors
///
/// [`WiringError`] when `component` is not a valid component.
pub fn wiring(component: &[u8]) -> Result<Vec<Instance>, WiringError> {
    let (mut instances, mut functions) = (Vec::<Item>::new(), Vec::<Item>::new());
    let mut instantiated: Vec<(u32, Vec<Raw>)> = Vec::new();
    let mut names: HashMap<u32, String> = HashMap::new();
    let mut depth = 0u32;
    let item_of = |kind: ComponentExternalKind,
                   item: Item,
                   instances: &mut Vec<Item>,
                   functions: &mut Vec<Item>| match kind {
        ComponentExternalKind::Instance => instances.push(item),
        ComponentExternalKind::Func => functions.push(item),
        _ => {}
    };
    for payload in Parser::new(0).parse_all(component) {
        match payload? {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            // Inside a nested module or component: not the composition's.
            _ if depth > 0 => {}
            Payload::ComponentImportSection(reader) => {
                for import in reader {
                    let import = import?;
                    let item = Item::Import(import.name.name.to_owned());
                    match import.ty {
                        ComponentTypeRef::Instance(_) => instances.push(item),
                        ComponentTypeRef::Func(_) => functions.push(item),
                        _ => {}
                    }
                }
            }
            Payload::ComponentInstanceSection(reader) => {
                for instance in reader {
                    if let ComponentInstance::Instantiate { args, .. } = instance? {
                        let index = instances.len() as u32;
                        instantiated.push((
                            index,
                            args.iter()
                                .map(|a| (a.name.to_owned(), a.kind, a.index))
                                .collect(),
                        ));
                        instances.push(Item::Instantiated);
                    } else {
                        instances.push(Item::Other);
                    }
                }
            }
            Payload::ComponentAliasSection(reader) => {
                for alias in reader {
                    if let ComponentAlias::InstanceExport {
                        kind,
                        instance_index,
                        name,
                    } = alias?
                    {
                        let item = Item::Export {
                            instance: instance_index,
                            export: name.to_owned(),
                        };
                        item_of(kind, item, &mut instances, &mut functions);
                    }
                }
            }
            Payload::ComponentCanonicalSection(reader) => {
                for function in reader {
                    if let CanonicalFunction::Lift { .. } = function? {
                        functions.push(Item::Other);
                    }
                }
            }
            Payload::ComponentExportSection(reader) => {
                // An export adds an index to its kind's space too.
                for export in reader {
                    let export = export?;
                    item_of(export.kind, Item::Other, &mut instances, &mut functions);
                }
            }
            Payload::CustomSection(section) => {
                if let KnownCustom::ComponentName(reader) = section.as_known() {
                    for name in reader {
                        if let ComponentName::Instances(map) = name? {
                            for naming in map {
                                let naming = naming?;
                                names.insert(naming.index, naming.name.to_owned());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let name_of = |index: u32| {
        names
            .get(&index)
            .cloned()
            .unwrap_or_else(|| format!("#{index}"))
    };
    Ok(instantiated
        .into_iter()
        .map(|(index, args)| Instance {
            name: name_of(index),
            arguments: args
                .into_iter()
                .map(|(import, kind, index)| {
                    let space = match kind {
                        ComponentExternalKind::Instance => &instances,
                        ComponentExternalKind::Func => &functions,
                        _ => {
                            return Argument {
                                import,
                                source: Source::Other,
                            };
                        }
                    };
                    let source = match space.get(index as usize) {
                        Some(Item::Import(name)) => Source::Import(name.clone()),
                        Some(Item::Export { instance, export }) => Source::Export {
                            instance: name_of(*instance),
                            export: export.clone(),
                        },
                        _ => Source::Other,
                    };
                    Argument { import, source }
                })
                .collect(),
        })
        .collect())
}
