//! Writes each tokenizer's vocabulary as a table that `src/vocab.rs` reads in
//! place from the binary: a token's rank is then one hash lookup away, with
//! nothing to load or build at run time. The vocabularies come from
//! `bpe-openai` (tiktoken's ranks: a token's id is its rank).

include!("src/vocab_format.rs");

fn main() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR is set"));
    for (name, tokenizer) in
        [("o200k_base", bpe_openai::o200k_base()), ("cl100k_base", bpe_openai::cl100k_base())]
    {
        let bpe = &tokenizer.bpe;
        let n = bpe.num_tokens();
        let slots = (n * 2).next_power_of_two();
        let mut pairs = vec![u32::MAX; PAIRS];
        let mut starts = Vec::with_capacity(n + 1);
        let mut blob = Vec::new();
        let mut table = vec![0u32; slots];
        for id in 0..n {
            let token = bpe.token_bytes(id as u32);
            starts.push(blob.len() as u32);
            blob.extend_from_slice(token);
            if let [a, b] = token {
                pairs[usize::from(*a) | usize::from(*b) << 8] = id as u32;
            }
            let mut slot = vocab_hash(token) as usize & (slots - 1);
            while table[slot] != 0 {
                slot = (slot + 1) & (slots - 1);
            }
            table[slot] = id as u32 + 1;
        }
        starts.push(blob.len() as u32);
        let mut bytes =
            Vec::with_capacity(4 * (PAIRS_AT + PAIRS + starts.len() + slots) + blob.len());
        for word in [n as u32, slots as u32].iter().chain(&pairs).chain(&starts).chain(&table) {
            bytes.extend_from_slice(&word.to_le_bytes());
        }
        bytes.extend_from_slice(&blob);
        std::fs::write(out.join(format!("vocab_{name}.bin")), bytes).expect("can write the table");
    }
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=src/vocab_format.rs");
}
