//! Context window assembly for suit (the "RAM manager").
//!
//! Not built yet. This crate will own: assembling the model's context window
//! under a token budget from segments that carry their provenance (user,
//! system, memory, repo, tool output, web) and priority; pinned segments that
//! survive compaction; and retrieval (lexical and embeddings).
