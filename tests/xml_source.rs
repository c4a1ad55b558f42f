//! MediaWiki XML dumps as the `pages` table, judged by Python's own XML
//! parser and mwparserfromhell (tests/python/check_xml.py) on fixtures made
//! from gensim's shortened real dumps (tests/fixtures/xml/make_fixtures.py).

mod common;

use std::ffi::OsStr;
use std::io::Read;

use arrow::array::{Array, AsArray};
use arrow::datatypes::Int64Type;
use common::*;

const MULTISTREAM: &str = "tests/fixtures/xml/enwiki-20261101-pages-articles-multistream.xml.bz2";
const BGWIKI: &str = "tests/fixtures/xml/bgwiki-20261101-pages-articles.xml.bz2";
const BGWIKI_UTF16: &str = "tests/fixtures/xml-utf16/bgwiki-20261101-pages-articles.xml.bz2";
const ALL_COLUMNS: &str = "tests/fixtures/xml/all_columns.sql";

fn judge_listing(mode: &str, dumps: &[&str]) -> serde_json::Value {
    let mut args: Vec<&OsStr> = vec![OsStr::new(mode)];
    args.extend(dumps.iter().map(OsStr::new));
    let report = run_python_check("tests/python/check_xml.py", &args);
    serde_json::from_str(report.trim()).unwrap()
}

/// The bzip2 fixtures decompressed to plain `.xml` files, in a directory.
fn plain_xml_copies() -> std::path::PathBuf {
    let dir = scratch("xml-plain");
    for fixture in [MULTISTREAM, BGWIKI] {
        let name = std::path::Path::new(fixture).file_name().unwrap().to_str().unwrap();
        let mut text = Vec::new();
        bzip2::read::MultiBzDecoder::new(std::fs::File::open(repo_root().join(fixture)).unwrap())
            .read_to_end(&mut text)
            .unwrap();
        std::fs::write(dir.join(name.strip_suffix(".bz2").unwrap()), text).unwrap();
    }
    dir
}

#[test]
fn every_page_once_with_exact_fields_links_and_text_whole_and_divided() {
    let plain = plain_xml_copies();
    let plain_multistream = plain.join("enwiki-20261101-pages-articles-multistream.xml");
    let plain_bgwiki = plain.join("bgwiki-20261101-pages-articles.xml");
    for (name, inputs, extra) in [
        ("whole", vec![MULTISTREAM, BGWIKI], vec![]),
        (
            "divided",
            vec![MULTISTREAM, BGWIKI],
            vec!["--partitions", "4", "--min-split-size", "16KiB"],
        ),
        (
            "plain-divided",
            vec![plain_multistream.to_str().unwrap(), plain_bgwiki.to_str().unwrap()],
            vec!["--partitions", "4", "--min-split-size", "64KiB"],
        ),
    ] {
        let out = scratch(&format!("xml-all-{name}"));
        let mut args = vec!["run", ALL_COLUMNS, "--output", out.to_str().unwrap(), "-q"];
        for input in &inputs {
            args.extend(["--input", input]);
        }
        args.extend(&extra);
        assert!(wikitok(&args).status.success(), "{name}");
        if !extra.is_empty() {
            assert!(parquet_files(&out).len() >= 4, "{name}: {:?}", files_under(&out));
        }
        let mut judge: Vec<&OsStr> = vec![out.as_os_str()];
        judge.extend(inputs.iter().map(OsStr::new));
        run_python_check("tests/python/check_xml.py", &judge);
    }
}

#[test]
fn tokenize_sql_writes_every_content_page_once_and_no_redirect() {
    let out = scratch("xml-tokenize");
    let run = tokenize_sql(
        "tests/fixtures/xml",
        out.to_str().unwrap(),
        &["--partitions", "4", "--min-split-size", "16KiB"],
    );
    assert!(run.status.success());
    assert!(parquet_files(&out.join("tokens")).len() >= 4);
    let expected: Vec<i64> = serde_json::from_value(judge_listing("--content-ids", &[MULTISTREAM, BGWIKI])).unwrap();
    assert_eq!(sorted(page_ids(&out.join("tokens"))), expected);
    // Tokens are of the rendered text: no page is empty but the empty/deleted ones.
    let mut empty = Vec::new();
    for file in parquet_files(&out.join("tokens")) {
        for batch in read_parquet(&file) {
            let ids = batch.column_by_name("page_id").unwrap().as_primitive::<Int64Type>();
            let counts = batch.column_by_name("n_tokens").unwrap().as_primitive::<Int64Type>();
            for i in 0..batch.num_rows() {
                if counts.value(i) == 0 {
                    empty.push(ids.value(i));
                }
            }
        }
    }
    assert_eq!(sorted(empty), [900001, 900002]);
}

#[test]
fn redirects_sql_joins_redirect_pages_to_their_targets_under_a_small_memory_limit() {
    let out = scratch("xml-redirects");
    let spill = out.join("spill");
    std::fs::create_dir_all(&spill).unwrap();
    let run = wikitok(&[
        "run",
        "sql/redirects.sql",
        "--input",
        MULTISTREAM,
        "--input",
        BGWIKI,
        "--output",
        out.to_str().unwrap(),
        "--memory-limit",
        "8MiB",
        "--spill-dir",
        spill.to_str().unwrap(),
        "-q",
    ]);
    assert!(run.status.success());
    let mut rows = Vec::new();
    for file in parquet_files(&out.join("redirects")) {
        for batch in read_parquet(&file) {
            let ids = batch.column(0).as_primitive::<Int64Type>();
            let titles = batch.column(1).as_string::<i32>();
            let redirects = batch.column(2).as_string::<i32>();
            for i in 0..batch.num_rows() {
                assert!(redirects.is_valid(i));
                rows.push(serde_json::json!([ids.value(i), titles.value(i), redirects.value(i)]));
            }
        }
    }
    rows.sort_by_key(|r| r.to_string());
    let expected = judge_listing("--redirect-pairs", &[MULTISTREAM, BGWIKI]);
    assert!(!expected.as_array().unwrap().is_empty());
    let mut expected = expected.as_array().unwrap().clone();
    expected.sort_by_key(|r| r.to_string());
    assert_eq!(rows, expected);
    assert_eq!(files_under(&spill), Vec::<String>::new());
}

#[test]
fn a_utf16_dump_reads_like_its_utf8_twin() {
    let read = |input: &str, name: &str| {
        let out = scratch(name);
        let run = wikitok(&[
            "run",
            ALL_COLUMNS,
            "--input",
            input,
            "--output",
            out.to_str().unwrap(),
            "-q",
        ]);
        assert!(run.status.success());
        let mut rows: Vec<String> = Vec::new();
        for file in parquet_files(&out) {
            for batch in read_parquet(&file) {
                for i in 0..batch.num_rows() {
                    rows.push(format!("{:?}", batch.slice(i, 1).columns()));
                }
            }
        }
        rows.sort();
        rows
    };
    let utf8 = read(BGWIKI, "xml-utf8");
    assert_eq!(utf8.len(), 3);
    assert_eq!(read(BGWIKI_UTF16, "xml-utf16"), utf8);
}

#[test]
fn head_schema_and_clear_refusals() {
    let head = wikitok(&["head", MULTISTREAM, "-n", "3"]);
    assert!(head.status.success());
    let listing = String::from_utf8_lossy(&head.stdout);
    assert!(
        listing.contains("AccessibleComputing") && listing.contains("Anarchism"),
        "{listing}"
    );
    let schema = wikitok(&["schema"]);
    assert!(String::from_utf8_lossy(&schema.stdout).contains("redirect_target"));

    let dir = scratch("xml-refusals");
    let seven = dir.join("enwiki-20261101-pages-meta-history1.xml-p1p812.7z");
    std::fs::write(&seven, b"7z\xbc\xaf\x27\x1c").unwrap();
    let run = tokenize_sql(seven.to_str().unwrap(), dir.join("out").to_str().unwrap(), &[]);
    assert!(!run.status.success());
    let message = stderr(&run);
    assert!(
        message.contains("not supported") && message.contains("p1p812.7z"),
        "{message}"
    );

    let mixed = wikitok(&[
        "run",
        "sql/tokenize.sql",
        "--input",
        MULTISTREAM,
        "--input",
        "data/samples",
        "--output",
        dir.join("out").to_str().unwrap(),
    ]);
    assert!(!mixed.status.success());
    assert!(stderr(&mixed).contains("mix dump families"), "{}", stderr(&mixed));
}

/// A page without `<id>`, `<ns>` or `<revision>` is a counted bad record
/// naming the file and line, not a silently filtered page.
#[test]
fn pages_without_id_namespace_or_revision_are_counted_bad_records() {
    let dir = scratch("xml-incomplete-pages");
    std::fs::create_dir_all(&dir).unwrap();
    let page = |title: &str, ns: &str, id: &str, revision: &str| {
        format!("  <page>\n    <title>{title}</title>\n{ns}{id}{revision}  </page>\n")
    };
    let revision =
        "    <revision>\n      <id>7</id>\n      <text xml:space=\"preserve\">Words.</text>\n    </revision>\n";
    let xml = format!(
        "<mediawiki xml:lang=\"en\">\n  <siteinfo>\n    <dbname>testwiki</dbname>\n  </siteinfo>\n{}{}{}{}</mediawiki>\n",
        page("Whole", "    <ns>0</ns>\n", "    <id>1</id>\n", revision),
        page("No id", "    <ns>0</ns>\n", "", revision),
        page("No ns", "", "    <id>3</id>\n", revision),
        page("No revision", "    <ns>0</ns>\n", "    <id>4</id>\n", ""),
    );
    let dump = dir.join("testwiki-20261101-pages-articles.xml");
    std::fs::write(&dump, xml).unwrap();
    let sql = dir.join("ids.sql");
    std::fs::write(
        &sql,
        "COPY (SELECT page_id FROM pages) TO '${output}/ids' STORED AS PARQUET;",
    )
    .unwrap();
    let out = dir.join("out");
    let run = wikitok(&[
        "run",
        sql.to_str().unwrap(),
        "--input",
        dump.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(page_ids(&out.join("ids")), [1]);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("_SUCCESS")).unwrap()).unwrap();
    assert_eq!(summary["bad_records"]["incomplete_page"], 3, "{summary}");
    assert_eq!(summary["pages_skipped"]["filtered_while_decoding"], 0, "{summary}");
    let log = stderr(&run);
    for (title, line) in [("No id", 14), ("No ns", 22), ("No revision", 30)] {
        assert!(
            log.contains(&format!("line {line}: incomplete_page (page {title:?}"))
                && log.contains(dump.to_str().unwrap()),
            "no bad record for {title:?} at line {line}: {log}"
        );
    }
}

/// A file whose pages come without `<siteinfo>` is refused with an error
/// naming the file and what is missing, not read with guessed namespaces.
#[test]
fn a_dump_without_siteinfo_is_refused() {
    let dir = scratch("xml-no-siteinfo");
    let dump = dir.join("testwiki-20261101-pages-articles.xml");
    std::fs::write(
        &dump,
        "<mediawiki xml:lang=\"en\">\n  <page>\n    <title>T</title>\n    <ns>0</ns>\n    <id>1</id>\n    \
         <revision>\n      <id>7</id>\n      <text xml:space=\"preserve\">Words.</text>\n    </revision>\n  </page>\n</mediawiki>\n",
    )
    .unwrap();
    let run = tokenize_sql(dump.to_str().unwrap(), dir.join("out").to_str().unwrap(), &[]);
    assert!(!run.status.success());
    let message = stderr(&run);
    assert!(
        message.contains("no <siteinfo>") && message.contains(dump.to_str().unwrap()),
        "{message}"
    );
    assert!(!dir.join("out").join("_SUCCESS").exists());
}

/// Prose templates render through the whole job, with the wiki's language
/// (its `xml:lang`), the dump's date from the file name, and a user's
/// `--templates` file.
#[test]
fn prose_templates_render_in_the_wikis_language() {
    let dir = scratch("xml-templates");
    let page = |id: u32, title: &str, text: &str| {
        format!(
            "  <page>\n    <title>{title}</title>\n    <ns>0</ns>\n    <id>{id}</id>\n    <revision>\n      <id>{id}0</id>\n      \
             <timestamp>2020-01-01T00:00:00Z</timestamp>\n      <text xml:space=\"preserve\">{text}</text>\n    </revision>\n  </page>\n"
        )
    };
    let dump = |lang: &str, pages: &str| {
        format!(
            "<mediawiki xml:lang=\"{lang}\">\n  <siteinfo>\n    <dbname>{lang}wiki</dbname>\n    <namespaces>\n      \
             <namespace key=\"10\" case=\"first-letter\">Modèle</namespace>\n    </namespaces>\n  </siteinfo>\n{pages}</mediawiki>\n"
        )
    };
    let english = dir.join("enwiki-20240601-pages-articles.xml");
    std::fs::write(
        &english,
        dump(
            "en",
            &page(
                1,
                "Einstein",
                "Born {{birth date and age|1879|3|14}}, he walked {{convert|10|km|mi}} \
                 ({{lang|de|''zu Fuß''}}) {{my note|home}}.{{Infobox person|name=X}}",
            ),
        ),
    )
    .unwrap();
    let french = dir.join("frwiki-20240601-pages-articles.xml");
    std::fs::write(
        &french,
        dump(
            "fr",
            &page(
                2,
                "Paris",
                "Le {{date|1|3|1879}}, au {{s-|XIX}}, {{unité|1200|m}} et {{Modèle:nombre|2145906|habitants}}.",
            ),
        ),
    )
    .unwrap();
    let mine = dir.join("mine.toml");
    std::fs::write(&mine, "[templates]\n\"my note\" = \"at {{{1}}}\"\n").unwrap();
    let sql = dir.join("text.sql");
    std::fs::write(
        &sql,
        "COPY (SELECT page_id, text FROM pages) TO '${output}/text' STORED AS PARQUET;",
    )
    .unwrap();
    let out = dir.join("out");
    let run = wikitok(&[
        "run",
        sql.to_str().unwrap(),
        "--input",
        english.to_str().unwrap(),
        "--input",
        french.to_str().unwrap(),
        "--templates",
        mine.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let texts = page_texts(&out.join("text"));
    assert_eq!(
        texts[&1],
        "Born March 14, 1879 (age 145), he walked 10 kilometres (6.2 mi) (zu Fuß) at home."
    );
    assert_eq!(
        texts[&2],
        "Le 1er mars 1879, au XIXe siècle, 1 200 m et 2 145 906 habitants."
    );

    let broken = dir.join("broken.toml");
    std::fs::write(&broken, "[templates]\nx = { builtin = \"nope\" }\n").unwrap();
    let refused = wikitok(&[
        "run",
        sql.to_str().unwrap(),
        "--input",
        english.to_str().unwrap(),
        "--templates",
        broken.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("broken.toml"), "{}", stderr(&refused));
}

/// `page_id` → `text` of every Parquet file under `dir`.
fn page_texts(dir: &std::path::Path) -> std::collections::BTreeMap<i64, String> {
    let mut texts = std::collections::BTreeMap::new();
    for file in parquet_files(dir) {
        for batch in read_parquet(&file) {
            let ids = batch.column_by_name("page_id").unwrap().as_primitive::<Int64Type>();
            let text = batch.column_by_name("text").unwrap().as_string::<i32>();
            for row in 0..batch.num_rows() {
                texts.insert(ids.value(row), text.value(row).to_string());
            }
        }
    }
    texts
}
