//! Prints how the search cuts each argument into words:
//! `cargo run -p ryoritsu-search --example seg -- 胃がんの治療`.

fn main() {
    for a in std::env::args().skip(1) {
        let w = ryoritsu_search::index_words(&a);
        println!("{a} => {}", w.join(" | "));
    }
}
