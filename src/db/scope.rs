//! Scopes and sets of APIs in columns: stored as their canonical string, parsed on the way out, so rows hold a
//! [`Scope`] (or a client's [`ClientScope`]) and a stored value this server does not know fails
//! the query instead of passing.

use sqlx::{
    Any, Database, Decode, Encode, Type,
    any::{AnyTypeInfo, AnyValueRef},
    encode::IsNull,
    error::BoxDynError,
};

use crate::domain::{Scope, api::ApiSet, client::ClientScope};

impl Type<Any> for Scope {
    fn type_info() -> AnyTypeInfo {
        <String as Type<Any>>::type_info()
    }
}

impl<'q> Encode<'q, Any> for Scope {
    fn encode_by_ref(&self, buf: &mut <Any as Database>::ArgumentBuffer<'q>) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, Any>>::encode(self.to_string(), buf)
    }
}

impl<'r> Decode<'r, Any> for Scope {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        let raw = <String as Decode<'r, Any>>::decode(value)?;
        Ok(Scope::parse(&raw)?)
    }
}

impl Type<Any> for ClientScope {
    fn type_info() -> AnyTypeInfo {
        <String as Type<Any>>::type_info()
    }
}

impl<'r> Decode<'r, Any> for ClientScope {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        let raw = <String as Decode<'r, Any>>::decode(value)?;
        Ok(ClientScope::parse(&raw)?)
    }
}

impl Type<Any> for ApiSet {
    fn type_info() -> AnyTypeInfo {
        <String as Type<Any>>::type_info()
    }
}

impl<'q> Encode<'q, Any> for ApiSet {
    fn encode_by_ref(&self, buf: &mut <Any as Database>::ArgumentBuffer<'q>) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, Any>>::encode(self.to_string(), buf)
    }
}

impl<'r> Decode<'r, Any> for ApiSet {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        let raw = <String as Decode<'r, Any>>::decode(value)?;
        Ok(ApiSet::parse(&raw)?)
    }
}
