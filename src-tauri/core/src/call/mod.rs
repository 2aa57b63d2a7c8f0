//! The data of a call, shared by the engine that makes it ([`crate::chat`]), the store that
//! keeps it ([`crate::history`]) and the service that runs it: no behaviour beyond small helpers,
//! so none of them depends on another for its types.

pub mod image;
pub mod request;
pub mod result;
pub mod route;

pub use image::{
    EtaSource, ImageEvent, ImageJob, ImageRequest, JobStatus, ProviderJob, StoredImage,
};
pub use request::{
    ChatMessage, ChatParams, ChatRequest, Policy, Role, Routing, Target, Task, ENDPOINT_PREFIX,
};
pub use result::{CallResult, CallStats, ChatEvent, Outcome, RateLimit};
pub use route::{Billing, CallMode, RouteDecision};
