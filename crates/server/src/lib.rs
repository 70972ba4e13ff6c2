//! suit's HTTP server (time-sharing).
//!
//! Not built yet. This crate will own an OpenAI-compatible API for thin
//! clients with a fair scheduler, API keys and budgets, the agent-session API
//! with server-sent events, and the web review GUI.
