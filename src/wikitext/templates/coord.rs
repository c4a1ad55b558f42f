//! `{{coord}}` (English Wikipedia's `Module:Coordinates`): a position in
//! the sentence, shown as degrees-minutes-seconds, then decimal degrees,
//! then the signed decimal pair: `48°50′29″N 2°19′26″E / 48.84135°N
//! 2.32375°E / 48.84135; 2.32375`.
//!
//! The arguments come in four shapes: `lat|long` in signed decimal degrees,
//! or degrees (`d|N|d|E`), degrees and minutes (`d|m|N|d|m|E`) or degrees,
//! minutes and seconds (`d|m|s|N|d|m|s|E`), each with its hemisphere
//! letter. Precision carries over as the module carries it: decimals from
//! DMS have 0, 2 or 4 places (more with fractional seconds), and DMS from
//! decimals shows degrees only for whole numbers, minutes for 1–2 decimal
//! places and seconds beyond. `display=title` puts the position at the top
//! of the page, not in the text: nothing is written in place.

use super::expand::Args;

/// The most decimal places a degree value is written with (more is noise,
/// and a precision past `u16::MAX` would panic in `format!`).
const MAX_DECIMALS: usize = 12;

/// One axis: degrees (signed: negative is S or W), and how precisely it was
/// given (0 degrees, 1 minutes, 2 seconds) plus its decimal places.
struct Axis {
    degrees: f64,
    /// 0: whole degrees, 1: minutes, 2: seconds.
    dms_parts: usize,
    /// Decimal places of the decimal form.
    decimals: usize,
    /// Minutes and seconds computed from decimals are written with two
    /// digits (`45°30′00″N`); ones given are written as given.
    padded: bool,
}

/// Renders a `{{coord}}` call; see the module docs.
pub fn render(args: &Args) -> String {
    if let Some(display) = args.named("display") {
        let display = display.to_ascii_lowercase();
        if !display.contains("inline")
            && !display
                .split(',')
                .any(|d| d.trim() == "i" || d.trim() == "it" || d.trim() == "ti")
        {
            return String::new();
        }
    }
    let positional: Vec<&str> = args.positionals().into_iter().map(str::trim).collect();
    let Some(Position {
        latitude,
        longitude,
        decimal_input,
    }) = read(&positional)
    else {
        return String::new();
    };
    let dms = format!(
        "{} {}",
        dms_text(&latitude, ['N', 'S']),
        dms_text(&longitude, ['E', 'W'])
    );
    let (lat_decimal, long_decimal) = match decimal_input {
        Some((lat, long)) => (lat.to_string(), long.to_string()),
        None => (
            format!("{:.*}", latitude.decimals, latitude.degrees),
            format!("{:.*}", longitude.decimals, longitude.degrees),
        ),
    };
    let unsigned = |text: &str| text.trim_start_matches(['-', '+']).to_string();
    let hemisphere = |value: f64, letters: [char; 2]| if value < 0.0 { letters[1] } else { letters[0] };
    let mut out = format!(
        "{dms} / {}°{} {}°{} / {lat_decimal}; {long_decimal}",
        unsigned(&lat_decimal),
        hemisphere(latitude.degrees, ['N', 'S']),
        unsigned(&long_decimal),
        hemisphere(longitude.degrees, ['E', 'W']),
    );
    if let Some(name) = args.named("name") {
        out.push_str(&format!(" ({name})"));
    }
    out
}

/// A position read from the arguments.
struct Position<'a> {
    latitude: Axis,
    longitude: Axis,
    /// The decimal arguments as written, when given so.
    decimal_input: Option<(&'a str, &'a str)>,
}

/// The two axes, and the decimal arguments as written when given so.
fn read<'a>(positional: &[&'a str]) -> Option<Position<'a>> {
    let hemisphere_at = |letters: [&str; 2]| {
        positional
            .iter()
            .position(|p| letters.iter().any(|l| p.eq_ignore_ascii_case(l)))
    };
    match hemisphere_at(["N", "S"]) {
        Some(lat_end @ 1..=3) => {
            let long_start = lat_end + 1;
            let long_end = long_start
                + positional[long_start..]
                    .iter()
                    .position(|p| p.eq_ignore_ascii_case("E") || p.eq_ignore_ascii_case("W"))?;
            let latitude = dms_axis(&positional[..lat_end], positional[lat_end].eq_ignore_ascii_case("S"))?;
            let longitude = dms_axis(
                &positional[long_start..long_end],
                positional[long_end].eq_ignore_ascii_case("W"),
            )?;
            Some(Position {
                latitude,
                longitude,
                decimal_input: None,
            })
        }
        Some(_) => None,
        None => {
            let (lat, long) = (*positional.first()?, *positional.get(1)?);
            Some(Position {
                latitude: decimal_axis(lat)?,
                longitude: decimal_axis(long)?,
                decimal_input: Some((lat, long)),
            })
        }
    }
}

fn dms_axis(parts: &[&str], negative: bool) -> Option<Axis> {
    let parts: Vec<&str> = parts.iter().copied().filter(|p| !p.is_empty()).collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    if let [only] = parts.as_slice() {
        if only.contains('.') {
            // `{{coord|43.651234|N|79.383333|W}}`: decimal degrees with
            // hemisphere letters, read like signed decimals.
            let axis = decimal_axis(only)?;
            return Some(Axis {
                degrees: if negative { -axis.degrees } else { axis.degrees },
                ..axis
            });
        }
    }
    let mut degrees = 0.0;
    for (index, part) in parts.iter().enumerate() {
        let value: f64 = part.parse().ok().filter(|v: &f64| v.is_finite() && v.abs() <= 360.0)?;
        degrees += value / 60f64.powi(index as i32);
    }
    let fraction_digits = |text: &str| text.split_once('.').map_or(0, |(_, f)| f.len());
    let decimals = match parts.len() {
        1 => fraction_digits(parts[0]),
        2 => 2 + fraction_digits(parts[1]),
        _ => 4 + fraction_digits(parts[2]),
    };
    Some(Axis {
        degrees: if negative { -degrees } else { degrees },
        dms_parts: parts.len() - 1,
        decimals: decimals.min(MAX_DECIMALS),
        padded: false,
    })
}

fn decimal_axis(text: &str) -> Option<Axis> {
    let degrees: f64 = text.parse().ok()?;
    if !degrees.is_finite() || degrees.abs() > 360.0 {
        return None;
    }
    let decimals = text.split_once('.').map_or(0, |(_, f)| f.len()).min(MAX_DECIMALS);
    let dms_parts = match decimals {
        0 => 0,
        1 | 2 => 1,
        _ => 2,
    };
    Some(Axis {
        degrees,
        dms_parts,
        decimals,
        padded: true,
    })
}

/// `48°50′29″N`: rounded to the axis's precision.
fn dms_text(axis: &Axis, letters: [char; 2]) -> String {
    let letter = if axis.degrees < 0.0 { letters[1] } else { letters[0] };
    let unit = [1.0, 60.0, 3600.0][axis.dms_parts];
    let total = (axis.degrees.abs() * unit).round() as u64;
    let width = if axis.padded { 2 } else { 1 };
    match axis.dms_parts {
        0 => format!("{total}°{letter}"),
        1 => format!("{}°{:0width$}′{letter}", total / 60, total % 60),
        _ => format!(
            "{}°{:0width$}′{:0width$}″{letter}",
            total / 3600,
            total / 60 % 60,
            total % 60
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coord(pairs: &[(&str, &str)]) -> String {
        render(&Args::from_pairs(pairs))
    }

    /// The forms of the template's documentation.
    #[test]
    fn the_documented_forms() {
        assert_eq!(
            coord(&[("1", "48.84135"), ("2", "2.32375"), ("format", "dms")]),
            "48°50′29″N 2°19′26″E / 48.84135°N 2.32375°E / 48.84135; 2.32375"
        );
        assert_eq!(
            coord(&[("1", "40"), ("2", "-100"), ("name", "US")]),
            "40°N 100°W / 40°N 100°W / 40; -100 (US)"
        );
        assert_eq!(
            coord(&[
                ("1", "57"),
                ("2", "18"),
                ("3", "22"),
                ("4", "N"),
                ("5", "4"),
                ("6", "27"),
                ("7", "32"),
                ("8", "W")
            ]),
            "57°18′22″N 4°27′32″W / 57.3061°N 4.4589°W / 57.3061; -4.4589"
        );
        assert_eq!(
            coord(&[("1", "38"), ("2", "43"), ("3", "N"), ("4", "9"), ("5", "9"), ("6", "W")]),
            "38°43′N 9°9′W / 38.72°N 9.15°W / 38.72; -9.15"
        );
        assert_eq!(
            coord(&[("1", "45.50008"), ("2", "-73.68248")]),
            "45°30′00″N 73°40′57″W / 45.50008°N 73.68248°W / 45.50008; -73.68248"
        );
        assert_eq!(coord(&[("1", "38"), ("2", "-9"), ("display", "title")]), "");
        assert!(coord(&[("1", "38"), ("2", "-9"), ("display", "inline,title")]).starts_with("38°N"));
        assert_eq!(
            coord(&[("1", "43.651234"), ("2", "N"), ("3", "79.383333"), ("4", "W")]),
            "43°39′04″N 79°23′00″W / 43.651234°N 79.383333°W / 43.651234; -79.383333"
        );
        assert_eq!(coord(&[("1", "x"), ("2", "y")]), "");
        assert_eq!(coord(&[("1", "1e999"), ("2", "N"), ("3", "2"), ("4", "E")]), "");
        let long_fraction = format!("3.{}", "1".repeat(70_000));
        assert!(coord(&[
            ("1", "1"),
            ("2", "2"),
            ("3", &long_fraction),
            ("4", "N"),
            ("5", "4"),
            ("6", "E")
        ])
        .starts_with("1°2′3″N"));
        assert_eq!(coord(&[("1", "1"), ("2", "2"), ("3", "3"), ("4", "4"), ("5", "N")]), "");
    }
}
