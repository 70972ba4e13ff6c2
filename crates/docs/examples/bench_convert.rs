//! Benchmark driver for bench/docs/run.sh: `bench_convert OUT_DIR ITERATIONS FILE...`.
//! Converts every file ITERATIONS times on one thread, writes the first
//! round's markdown to OUT_DIR/<n>.md and prints one JSON line with the
//! throughput. `SUIT_BENCH_WHOLE_PAGE=1` converts whole pages (no main-content
//! extraction), like converters that have none.

use std::time::Instant;

use suit_docs::{convert_html, ConvertOptions};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: bench_convert OUT_DIR ITERATIONS FILE...");
        std::process::exit(2);
    }
    let out = std::path::Path::new(&args[0]);
    let iterations: usize = args[1].parse().expect("ITERATIONS is a number");
    let pages: Vec<String> = args[2..]
        .iter()
        .map(|f| String::from_utf8_lossy(&std::fs::read(f).expect("readable page")).into_owned())
        .collect();
    let opts = ConvertOptions {
        base_url: None,
        main_content: std::env::var("SUIT_BENCH_WHOLE_PAGE").map_or(true, |v| v != "1"),
    };
    std::fs::create_dir_all(out).expect("output folder");
    for (i, p) in pages.iter().enumerate() {
        std::fs::write(out.join(format!("{i}.md")), convert_html(p, &opts).markdown)
            .expect("write");
    }
    let bytes: usize = pages.iter().map(String::len).sum();
    let start = Instant::now();
    let mut sink = 0usize;
    for _ in 0..iterations {
        for p in &pages {
            sink += convert_html(p, &opts).markdown.len();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let mb = (bytes * iterations) as f64 / 1e6;
    println!(
        "{{\"pages\":{},\"bytes\":{bytes},\"iterations\":{iterations},\"secs\":{secs:.4},\"mb_per_s\":{:.2},\"out_bytes\":{}}}",
        pages.len(),
        mb / secs,
        sink / iterations.max(1)
    );
}
