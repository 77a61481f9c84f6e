//! Canonicalisation throughput (records per second per core) on a mix of
//! URL shapes found in feeds.

use isx_urls::canonicalize;

fn main() {
    divan::main();
}

fn corpus() -> Vec<String> {
    (0..10_000)
        .map(|i| match i % 5 {
            0 => format!("http://Host{i}.Example.com:80/path/./to/../file{i}.exe"),
            1 => format!("https://login-{i}.evil.co.uk/signin?acct=%7e{i}&next=%2F"),
            2 => format!("hxxp://198.51.{}.{}/bins/mips", i % 250, i % 200),
            3 => format!("http://bücher{i}.example.de/a b#frag"),
            _ => format!("evil{i}.example.net/dl/payload.bin?x=1"),
        })
        .collect()
}

#[divan::bench]
fn canonicalize_mixed(bencher: divan::Bencher) {
    let urls = corpus();
    bencher
        .counter(divan::counter::ItemsCount::new(urls.len()))
        .bench(|| {
            urls.iter()
                .filter(|u| canonicalize(divan::black_box(u)).is_ok())
                .count()
        });
}
