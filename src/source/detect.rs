//! Which dump family a file belongs to — CirrusSearch JSON or MediaWiki
//! XML — from its name, or, for a file named otherwise, its first bytes.
//! One run reads one family: the same SQL means the same thing on both,
//! but mixing them in one table would count every page twice.

use std::io::BufRead;
use std::sync::Arc;

use anyhow::{bail, Context, Result};

use super::cirrus::CirrusSearch;
use super::compression::open_dump_stream;
use super::format::DumpFormat;
use super::storage::{family_from_name, DumpFamily, Split};
use super::xml::MediaWikiXml;

/// The reader of a family's dumps.
pub fn format_of(family: DumpFamily) -> Arc<dyn DumpFormat> {
    match family {
        DumpFamily::CirrusSearch => Arc::new(CirrusSearch),
        DumpFamily::MediaWikiXml => Arc::new(MediaWikiXml::default()),
    }
}

/// The format for `splits`: one family for all of them, or an error naming
/// the files that do not fit.
pub fn format_for_splits(splits: &[Split]) -> Result<Arc<dyn DumpFormat>> {
    Ok(format_of(family_for_splits(splits)?))
}

/// The one dump family of `splits` (CirrusSearch when there are none), or an
/// error naming the files that do not fit.
pub fn family_for_splits(splits: &[Split]) -> Result<DumpFamily> {
    let mut found: Option<(DumpFamily, String)> = None;
    for split in splits {
        let location = split.location();
        if location.ends_with(".7z") {
            bail!(
                "{location}: 7-Zip files are not supported (Wikimedia uses .7z for full-history dumps); \
                 use the .bz2 edition of the same dump"
            );
        }
        if location.contains("-multistream-index") {
            bail!(
                "{location}: this is the index of a multistream dump, not a dump; pass the \
                 ...-multistream.xml.bz2 file beside it"
            );
        }
        let family = match family_from_name(location) {
            Some(family) => family,
            None => family_from_content(split).with_context(|| format!("input {location}"))?,
        };
        match &found {
            None => found = Some((family, location.to_string())),
            Some((first, first_location)) if *first != family => bail!(
                "the inputs mix dump families: {first_location} is {}, {location} is {}; run them separately",
                first.describe(),
                family.describe()
            ),
            Some(_) => {}
        }
    }
    Ok(found.map_or(DumpFamily::CirrusSearch, |(family, _)| family))
}

/// Sniffs the decompressed start of a file: `<` is XML, anything else is
/// left to the CirrusSearch reader (whose errors say what it found).
fn family_from_content(split: &Split) -> Result<DumpFamily> {
    let (mut reader, _, _) = open_dump_stream(split.open_at(0)?)?;
    let head = reader.fill_buf()?;
    let text = head.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(head);
    let first = text.iter().find(|b| !b.is_ascii_whitespace());
    Ok(match (head, first) {
        ([0xff, 0xfe, ..] | [0xfe, 0xff, ..], _) | (_, Some(b'<')) => DumpFamily::MediaWikiXml,
        _ => DumpFamily::CirrusSearch,
    })
}
