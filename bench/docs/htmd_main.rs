// htmd side of bench/docs/run.sh: same protocol as suit-docs' bench_convert.
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = std::path::Path::new(&args[0]);
    let iterations: usize = args[1].parse().unwrap();
    let pages: Vec<String> =
        args[2..].iter().map(|f| String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned()).collect();
    std::fs::create_dir_all(out).unwrap();
    for (i, p) in pages.iter().enumerate() {
        std::fs::write(out.join(format!("{i}.md")), htmd::convert(p).unwrap()).unwrap();
    }
    let bytes: usize = pages.iter().map(String::len).sum();
    let start = Instant::now();
    let mut sink = 0usize;
    for _ in 0..iterations {
        for p in &pages {
            sink += htmd::convert(p).unwrap().len();
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
