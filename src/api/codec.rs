//! How a page's data crosses from the server's render to the browser: the JSON a server
//! function answers with, read the way the server function's own client reads it.
//!
//! A resource's answer is written into the page as JSON and read back by the browser when it
//! hydrates; later loads come from the server function, whose client reads its JSON from bytes.
//! Leptos' default resource codec reads from a `&str` instead, and serde_json builds a separate
//! parser for every type and every input kind: every answer type was built twice into the WASM
//! (112 KB of its 2 MB of code before `wasm-opt`). [`PageData`] reads from bytes too, so each
//! type's parser is built once.

use leptos::{
    prelude::*,
    server::codee::{Decoder, Encoder},
};
use serde::{Serialize, de::DeserializeOwned};

/// JSON, read from bytes like a server function's answer (see the module's comment).
pub struct PageData;

impl<T: Serialize> Encoder<T> for PageData {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for PageData {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(json: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(json.as_bytes())
    }
}

/// A page's data: [`Resource::new`] with the [`PageData`] codec.
#[track_caller]
pub fn resource<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Resource<T, PageData>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: PartialEq + Clone + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}
