//! `{{convert}}` as English Wikipedia's Module:Convert shows it in prose:
//! "10 kilometres (6.2 mi)" — the input spelled out, the conversion
//! abbreviated and rounded to about the input's precision (never fewer
//! than two significant figures), with the options articles use most
//! (`abbr`, `adj`, `disp`, `sp=us`, `order=flip`, ranges, several output
//! units, feet and inches).

use super::expand::Args;
use super::functions::group_digits;

/// A unit: its code(s), what it measures, how it converts, how it reads.
struct Unit {
    codes: &'static [&'static str],
    dimension: &'static str,
    /// Value in the dimension's base unit of one of this unit...
    factor: f64,
    /// ...plus this (temperatures).
    offset: f64,
    singular: &'static str,
    plural: &'static str,
    symbol: &'static str,
    /// The conversion shown when the call names none.
    default_out: &'static str,
}

macro_rules! unit {
    ($codes:expr, $dim:expr, $factor:expr, $singular:expr, $plural:expr, $symbol:expr, $out:expr) => {
        Unit {
            codes: $codes,
            dimension: $dim,
            factor: $factor,
            offset: 0.0,
            singular: $singular,
            plural: $plural,
            symbol: $symbol,
            default_out: $out,
        }
    };
}

const MILE: f64 = 1609.344;
const FOOT: f64 = 0.3048;
const INCH: f64 = 0.0254;
const POUND: f64 = 0.45359237;

#[rustfmt::skip]
static UNITS: &[Unit] = &[
    unit!(&["m"], "length", 1.0, "metre", "metres", "m", "ft"),
    unit!(&["km"], "length", 1000.0, "kilometre", "kilometres", "km", "mi"),
    unit!(&["cm"], "length", 0.01, "centimetre", "centimetres", "cm", "in"),
    unit!(&["mm"], "length", 0.001, "millimetre", "millimetres", "mm", "in"),
    unit!(&["mi"], "length", MILE, "mile", "miles", "mi", "km"),
    unit!(&["ft", "foot", "feet"], "length", FOOT, "foot", "feet", "ft", "m"),
    unit!(&["in", "inch"], "length", INCH, "inch", "inches", "in", "mm"),
    unit!(&["yd"], "length", 0.9144, "yard", "yards", "yd", "m"),
    unit!(
        &["nmi"],
        "length",
        1852.0,
        "nautical mile",
        "nautical miles",
        "nmi",
        "km"
    ),
    unit!(
        &["km2", "sqkm"],
        "area",
        1e6,
        "square kilometre",
        "square kilometres",
        "km2",
        "sqmi"
    ),
    unit!(&["m2"], "area", 1.0, "square metre", "square metres", "m2", "sqft"),
    unit!(&["ha"], "area", 1e4, "hectare", "hectares", "ha", "acre"),
    unit!(&["acre", "acres"], "area", 4046.8564224, "acre", "acres", "acres", "ha"),
    unit!(
        &["sqmi"],
        "area",
        MILE * MILE,
        "square mile",
        "square miles",
        "sq mi",
        "km2"
    ),
    unit!(
        &["sqft"],
        "area",
        FOOT * FOOT,
        "square foot",
        "square feet",
        "sq ft",
        "m2"
    ),
    unit!(&["m3"], "volume", 1.0, "cubic metre", "cubic metres", "m3", "cuft"),
    unit!(&["L", "l"], "volume", 0.001, "litre", "litres", "L", "USgal"),
    unit!(&["ml", "mL"], "volume", 1e-6, "millilitre", "millilitres", "ml", "USoz"),
    unit!(
        &["USgal"],
        "volume",
        0.003785411784,
        "US gallon",
        "US gallons",
        "US gal",
        "L"
    ),
    unit!(
        &["impgal"],
        "volume",
        0.00454609,
        "imperial gallon",
        "imperial gallons",
        "imp gal",
        "L"
    ),
    unit!(
        &["USoz"],
        "volume",
        2.95735295625e-5,
        "US fluid ounce",
        "US fluid ounces",
        "US fl oz",
        "ml"
    ),
    unit!(
        &["cuft"],
        "volume",
        FOOT * FOOT * FOOT,
        "cubic foot",
        "cubic feet",
        "cu ft",
        "m3"
    ),
    unit!(
        &["cm3", "cc"],
        "volume",
        1e-6,
        "cubic centimetre",
        "cubic centimetres",
        "cm3",
        "cuin"
    ),
    unit!(
        &["cuin"],
        "volume",
        INCH * INCH * INCH,
        "cubic inch",
        "cubic inches",
        "cu in",
        "cm3"
    ),
    unit!(
        &["oilbbl", "bbl"],
        "volume",
        0.158987294928,
        "barrel",
        "barrels",
        "bbl",
        "m3"
    ),
    unit!(
        &["sqyd"],
        "area",
        0.9144 * 0.9144,
        "square yard",
        "square yards",
        "sq yd",
        "m2"
    ),
    unit!(
        &["sqin"],
        "area",
        INCH * INCH,
        "square inch",
        "square inches",
        "sq in",
        "cm2"
    ),
    unit!(
        &["cm2"],
        "area",
        1e-4,
        "square centimetre",
        "square centimetres",
        "cm2",
        "sqin"
    ),
    unit!(
        &["mi2"],
        "area",
        MILE * MILE,
        "square mile",
        "square miles",
        "sq mi",
        "km2"
    ),
    unit!(
        &["km/s"],
        "speed",
        1000.0,
        "kilometre per second",
        "kilometres per second",
        "km/s",
        "mi/s"
    ),
    unit!(
        &["mi/s"],
        "speed",
        MILE,
        "mile per second",
        "miles per second",
        "mi/s",
        "km/s"
    ),
    unit!(&["GW"], "power", 1e9, "gigawatt", "gigawatts", "GW", "hp"),
    unit!(&["MPa"], "pressure", 1e6, "megapascal", "megapascals", "MPa", "psi"),
    unit!(
        &["atm"],
        "pressure",
        101325.0,
        "standard atmosphere",
        "standard atmospheres",
        "atm",
        "kPa"
    ),
    unit!(&["kcal"], "energy", 4184.0, "kilocalorie", "kilocalories", "kcal", "kJ"),
    unit!(&["kJ"], "energy", 1e3, "kilojoule", "kilojoules", "kJ", "kcal"),
    unit!(
        &["ly"],
        "length",
        9.4607304725808e15,
        "light-year",
        "light-years",
        "ly",
        "km"
    ),
    unit!(
        &["AU"],
        "length",
        1.495978707e11,
        "astronomical unit",
        "astronomical units",
        "AU",
        "km"
    ),
    unit!(&["kg"], "mass", 1.0, "kilogram", "kilograms", "kg", "lb"),
    unit!(&["g"], "mass", 0.001, "gram", "grams", "g", "oz"),
    unit!(&["t", "tonne"], "mass", 1000.0, "tonne", "tonnes", "t", "ST"),
    unit!(&["lb"], "mass", POUND, "pound", "pounds", "lb", "kg"),
    unit!(&["oz"], "mass", POUND / 16.0, "ounce", "ounces", "oz", "g"),
    unit!(&["st"], "mass", POUND * 14.0, "stone", "stone", "st", "kg"),
    unit!(
        &["ST", "shortton"],
        "mass",
        POUND * 2000.0,
        "short ton",
        "short tons",
        "short tons",
        "t"
    ),
    unit!(
        &["LT", "longton"],
        "mass",
        POUND * 2240.0,
        "long ton",
        "long tons",
        "long tons",
        "t"
    ),
    unit!(
        &["km/h", "kph"],
        "speed",
        1000.0 / 3600.0,
        "kilometre per hour",
        "kilometres per hour",
        "km/h",
        "mph"
    ),
    unit!(
        &["mph"],
        "speed",
        MILE / 3600.0,
        "mile per hour",
        "miles per hour",
        "mph",
        "km/h"
    ),
    unit!(
        &["m/s"],
        "speed",
        1.0,
        "metre per second",
        "metres per second",
        "m/s",
        "ft/s"
    ),
    unit!(
        &["ft/s"],
        "speed",
        FOOT,
        "foot per second",
        "feet per second",
        "ft/s",
        "m/s"
    ),
    unit!(
        &["kn", "knot", "knots"],
        "speed",
        1852.0 / 3600.0,
        "knot",
        "knots",
        "kn",
        "km/h"
    ),
    unit!(&["W"], "power", 1.0, "watt", "watts", "W", "hp"),
    unit!(&["kW"], "power", 1e3, "kilowatt", "kilowatts", "kW", "hp"),
    unit!(&["MW"], "power", 1e6, "megawatt", "megawatts", "MW", "hp"),
    unit!(
        &["hp"],
        "power",
        745.69987158227,
        "horsepower",
        "horsepower",
        "hp",
        "kW"
    ),
    unit!(&["kPa"], "pressure", 1e3, "kilopascal", "kilopascals", "kPa", "psi"),
    unit!(
        &["psi"],
        "pressure",
        6894.757293168,
        "pound per square inch",
        "pounds per square inch",
        "psi",
        "kPa"
    ),
    unit!(&["bar"], "pressure", 1e5, "bar", "bars", "bar", "psi"),
    unit!(&["J"], "energy", 1.0, "joule", "joules", "J", "cal"),
    unit!(&["cal"], "energy", 4.184, "calorie", "calories", "cal", "J"),
    unit!(
        &["kWh"],
        "energy",
        3.6e6,
        "kilowatt-hour",
        "kilowatt-hours",
        "kWh",
        "MJ"
    ),
    unit!(&["MJ"], "energy", 1e6, "megajoule", "megajoules", "MJ", "kWh"),
    unit!(
        &["/km2"],
        "density",
        1e-6,
        "per square kilometre",
        "per square kilometre",
        "/km2",
        "/sqmi"
    ),
    unit!(
        &["/sqmi"],
        "density",
        1.0 / (MILE * MILE),
        "per square mile",
        "per square mile",
        "/sq mi",
        "/km2"
    ),
    Unit {
        codes: &["C", "°C"],
        dimension: "temperature",
        factor: 1.0,
        offset: 273.15,
        singular: "degree Celsius",
        plural: "degrees Celsius",
        symbol: "°C",
        default_out: "F",
    },
    Unit {
        codes: &["F", "°F"],
        dimension: "temperature",
        factor: 5.0 / 9.0,
        offset: 273.15 - 32.0 * 5.0 / 9.0,
        singular: "degree Fahrenheit",
        plural: "degrees Fahrenheit",
        symbol: "°F",
        default_out: "C",
    },
    Unit {
        codes: &["K"],
        dimension: "temperature",
        factor: 1.0,
        offset: 0.0,
        singular: "kelvin",
        plural: "kelvins",
        symbol: "K",
        default_out: "C",
    },
];

fn unit(code: &str) -> Option<&'static Unit> {
    UNITS.iter().find(|u| u.codes.contains(&code))
}

/// Words between the two values of a range, as the reader sees them.
fn range_word(word: &str) -> Option<&'static str> {
    Some(match word {
        "to" | "to(-)" => " to ",
        "-" | "–" | "to-" => "–",
        "and" | "and(-)" => " and ",
        "or" => " or ",
        "by" => " by ",
        "x" | "×" => " × ",
        "+/-" | "±" => " ± ",
        "&" => " & ",
        "," => ", ",
        _ => return None,
    })
}

/// `10-14` or `10–14` → (`10`, `14`); a leading minus is a sign.
fn split_range(text: &str) -> Option<(&str, &str)> {
    if read_number(text).is_some() {
        return None;
    }
    let (at, separator) = text.char_indices().skip(1).find(|&(_, c)| c == '-' || c == '–')?;
    let (low, high) = (&text[..at], &text[at + separator.len_utf8()..]);
    (read_number(low).is_some() && read_number(high).is_some()).then_some((low, high))
}

/// A value as written: its number and how many decimals it was given with.
#[derive(Debug, Clone, Copy)]
struct Written {
    value: f64,
    /// Decimal places, negative for trailing zeros of an integer (`1000`: -3).
    precision: i32,
}

fn read_number(text: &str) -> Option<Written> {
    let cleaned: String = text.trim().chars().filter(|&c| c != ',').collect();
    let cleaned = cleaned.replace('−', "-");
    let value: f64 = cleaned.parse().ok()?;
    let digits = cleaned.trim_start_matches(['-', '+']);
    let precision = match digits.split_once('.') {
        Some((_, fraction)) => fraction.len() as i32,
        None if value == 0.0 => 0,
        None => -(digits.bytes().rev().take_while(|&b| b == b'0').count() as i32),
    };
    Some(Written { value, precision })
}

/// Renders a `{{convert}}` call.
pub fn render(args: &Args) -> String {
    let mut positional: Vec<&str> = args.positionals().into_iter().map(str::trim).collect();
    // `{{cvt|10-14|cm}}`: a range written in one argument reads as
    // `{{cvt|10|-|14|cm}}`.
    if let Some((low, high)) = positional.first().and_then(|first| split_range(first)) {
        positional.splice(0..1, [low, "-", high]);
    }
    let Some(first) = positional.first().and_then(|t| read_number(t)) else {
        return positional.join(" ");
    };
    let mut values = vec![(first, positional[0])];
    let mut separators = Vec::new();
    let mut at = 1;
    while let (Some(word), Some(next)) = (positional.get(at), positional.get(at + 1)) {
        let (Some(separator), Some(number)) = (range_word(word), read_number(next)) else {
            break;
        };
        separators.push(separator);
        values.push((number, positional[at + 1]));
        at += 2;
    }
    let Some(&in_code) = positional.get(at) else {
        return positional.join(" ");
    };
    // `{{convert|5|ft|10|in|m}}`: feet and inches in.
    if in_code == "ft" && values.len() == 1 && positional.get(at + 2) == Some(&"in") {
        if let Some(inches) = positional.get(at + 1).and_then(|t| read_number(t)) {
            return feet_and_inches_in(first, inches, positional.get(at + 3).copied(), args);
        }
    }
    let Some(input) = unit(in_code) else {
        // A unit wikitok does not know: the value and the code as written.
        return format!("{} {in_code}", positional[0]);
    };
    let out_codes = positional
        .get(at + 1)
        .filter(|code| !code.is_empty() && read_number(code).is_none())
        .copied()
        .unwrap_or(input.default_out);
    // An empty slot is an absent one (a wrapper template passes every slot).
    let precision_arg = positional
        .get(at + 2)
        .filter(|p| !p.trim().is_empty())
        .or_else(|| positional.get(at + 1).filter(|p| read_number(p).is_some()))
        .and_then(|p| p.parse::<i32>().ok());
    let options = Options::of(args);

    let input_text = spelled_values(&values, &separators, |_, text| group_number(text));
    let plural = values.len() > 1 || first.value != 1.0;
    // Temperatures are written with their symbol unless `abbr=off`.
    let symbol_in = options.abbreviate_input || (input.dimension == "temperature" && !options.spell_out);
    let input_name = if symbol_in {
        input.symbol.to_string()
    } else if options.adjective {
        options.spelling(input.singular)
    } else if plural {
        options.spelling(input.plural)
    } else {
        options.spelling(input.singular)
    };
    let joiner = if options.adjective && !symbol_in { "-" } else { " " };
    let shown_in = format!("{input_text}{joiner}{input_name}");

    let mut outputs = Vec::new();
    for code in out_codes.split_whitespace() {
        if code == "ftin" && input.dimension == "length" {
            let metres = input.factor * first.value + input.offset;
            outputs.push(feet_and_inches(metres));
            continue;
        }
        let Some(output) = unit(code).filter(|o| o.dimension == input.dimension) else {
            continue;
        };
        let convert = |written: Written| (written.value * input.factor + input.offset - output.offset) / output.factor;
        // A range is rounded as its first value is.
        // `sigfig=N`: N significant figures; a precision after the units:
        // that many decimals; else Module:Convert's default.
        let significant = args
            .named("sigfig")
            .and_then(|n| n.parse::<i32>().ok())
            .filter(|&n| n > 0);
        let decimals = match (significant, precision_arg) {
            (Some(figures), _) if convert(first) != 0.0 => figures - 1 - convert(first).abs().log10().floor() as i32,
            (_, Some(decimals)) => decimals,
            _ => default_decimals(first, convert(first), input, output),
        };
        let converted = spelled_values(&values, &separators, |written, _| {
            format_rounded(convert(written), decimals)
        });
        let name = if options.abbreviate_output {
            output.symbol.to_string()
        } else {
            options.spelling(output.plural)
        };
        outputs.push(format!("{converted} {name}"));
    }
    if outputs.is_empty() {
        return shown_in;
    }
    let shown_out = outputs.join("; ");
    match options.display.as_str() {
        "number" => shown_out.split(' ').next().unwrap_or("").to_string(),
        "out" => shown_out,
        "or" => format!("{shown_in} or {shown_out}"),
        "x" | "br" | "b" | "" if !options.flip => format!("{shown_in} ({shown_out})"),
        _ if options.flip => format!("{shown_out} ({shown_in})"),
        _ => format!("{shown_in} ({shown_out})"),
    }
}

/// The values of a range with their separators, each shown by `show`.
fn spelled_values(values: &[(Written, &str)], separators: &[&str], show: impl Fn(Written, &str) -> String) -> String {
    let mut out = String::new();
    for (index, (written, text)) in values.iter().enumerate() {
        if index > 0 {
            out.push_str(separators[index - 1]);
        }
        out.push_str(&show(*written, text));
    }
    out
}

/// Decimal places of a converted value: the input's precision, shifted by
/// the conversion's order of magnitude, with at least two significant
/// figures (Module:Convert's default rounding).
fn default_decimals(written: Written, value: f64, input: &Unit, output: &Unit) -> i32 {
    let mut precision = written.precision;
    if input.dimension == "temperature" {
        precision = precision.max(0);
    }
    let ratio = input.factor / output.factor;
    let mut decimals = precision - ratio.log10().round() as i32;
    if value != 0.0 {
        let magnitude = value.abs().log10().floor() as i32;
        if magnitude + 1 + decimals < 2 {
            decimals = 1 - magnitude;
        }
    }
    decimals
}

/// The most decimal places a value is written with.
const MAX_DECIMALS: i32 = 17;

/// `value` rounded to `decimals` places (negative: tens, hundreds), with
/// digit groups.
fn format_rounded(value: f64, decimals: i32) -> String {
    // More places than an f64 holds are noise (and a precision past
    // `u16::MAX` would panic in `format!`).
    let decimals = decimals.min(MAX_DECIMALS);
    let text = if decimals >= 0 {
        format!("{value:.*}", decimals as usize)
    } else {
        let scale = 10f64.powi(-decimals);
        format!("{:.0}", (value / scale).round() * scale)
    };
    let text = if text.starts_with("-0") && text.trim_start_matches(['-', '0', '.']).is_empty() {
        text[1..].to_string()
    } else {
        text
    };
    group_number(&text)
}

/// `1234567.5` → `1,234,567.5`; negative numbers with a minus sign
/// (U+2212), as Module:Convert writes them.
fn group_number(text: &str) -> String {
    let cleaned: String = text.chars().filter(|&c| c != ',').collect();
    let (sign, digits) = match cleaned.strip_prefix(['-', '−']) {
        Some(rest) => ("−", rest),
        None => ("", cleaned.as_str()),
    };
    let (integer, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if !integer.bytes().all(|b| b.is_ascii_digit()) {
        return text.to_string();
    }
    let mut out = format!("{sign}{}", group_digits(integer, ",", 1));
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

/// `5 ft 10 in` from metres.
fn feet_and_inches(metres: f64) -> String {
    let total_inches = (metres / INCH).round() as i64;
    format!("{} ft {} in", total_inches / 12, total_inches % 12)
}

fn feet_and_inches_in(feet: Written, inches: Written, out: Option<&str>, args: &Args) -> String {
    let metres = feet.value * FOOT + inches.value * INCH;
    let options = Options::of(args);
    let name = |n: f64, one: &str, many: &str| {
        if options.abbreviate_input {
            return String::new();
        }
        (if n == 1.0 { one } else { many }).to_string()
    };
    let shown_in = if options.abbreviate_input {
        format!("{} ft {} in", feet.value, inches.value)
    } else {
        format!(
            "{} {} {} {}",
            feet.value,
            name(feet.value, "foot", "feet"),
            inches.value,
            name(inches.value, "inch", "inches")
        )
    };
    let output = out
        .and_then(unit)
        .filter(|u| u.dimension == "length")
        .unwrap_or(&UNITS[0]);
    let value = metres / output.factor;
    let decimals = if output.factor >= 1.0 { 2 } else { 0 };
    format!("{shown_in} ({} {})", format_rounded(value, decimals), output.symbol)
}

/// The display options of a call.
struct Options {
    abbreviate_input: bool,
    abbreviate_output: bool,
    /// `abbr=off`: names on both sides.
    spell_out: bool,
    adjective: bool,
    us_spelling: bool,
    flip: bool,
    display: String,
}

impl Options {
    fn of(args: &Args) -> Options {
        let abbr = args.named("abbr").unwrap_or("");
        let display = args.named("disp").unwrap_or("").to_string();
        Options {
            abbreviate_input: matches!(abbr, "on" | "in" | "values"),
            abbreviate_output: !matches!(abbr, "off" | "in"),
            spell_out: abbr == "off",
            adjective: args.named("adj").is_some_and(|a| a == "on" || a == "yes"),
            us_spelling: args.named("sp").is_some_and(|s| s == "us"),
            flip: display == "flip" || args.named("order").is_some_and(|o| o == "flip"),
            display,
        }
    }

    fn spelling(&self, name: &str) -> String {
        if self.us_spelling {
            name.replace("metre", "meter").replace("litre", "liter")
        } else {
            name.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(pairs: &[(&str, &str)]) -> String {
        render(&Args::from_pairs(pairs))
    }

    fn positional(values: &[&str]) -> String {
        let names: Vec<String> = (1..=values.len()).map(|n| n.to_string()).collect();
        let pairs: Vec<(&str, &str)> = names.iter().map(String::as_str).zip(values.iter().copied()).collect();
        convert(&pairs)
    }

    /// Examples from Template:Convert's documentation.
    #[test]
    fn documentation_examples() {
        assert_eq!(positional(&["10", "km", "mi"]), "10 kilometres (6.2 mi)");
        assert_eq!(positional(&["1", "km", "mi"]), "1 kilometre (0.62 mi)");
        assert_eq!(positional(&["100", "km"]), "100 kilometres (62 mi)");
        assert_eq!(positional(&["100", "km", "", "1"]), "100 kilometres (62.1 mi)");
        assert_eq!(positional(&["100", "km", "mi", ""]), "100 kilometres (62 mi)");
        assert_eq!(positional(&["1000", "km", "mi"]), "1,000 kilometres (620 mi)");
        assert_eq!(positional(&["100", "m", "ft"]), "100 metres (330 ft)");
        assert_eq!(positional(&["2", "kg"]), "2 kilograms (4.4 lb)");
        assert_eq!(positional(&["20", "C"]), "20 °C (68 °F)");
        assert_eq!(positional(&["100", "C", "F"]), "100 °C (212 °F)");
        assert_eq!(
            positional(&["10", "to", "20", "km", "mi"]),
            "10 to 20 kilometres (6.2 to 12.4 mi)"
        );
        assert_eq!(positional(&["3", "-", "5", "km"]), "3–5 kilometres (1.9–3.1 mi)");
        assert_eq!(positional(&["1.78", "m", "ftin"]), "1.78 metres (5 ft 10 in)");
        assert_eq!(positional(&["10-14", "cm", "in"]), "10–14 centimetres (3.9–5.5 in)");
        assert_eq!(positional(&["-5", "C", "F"]), positional(&["−5", "C", "F"]));
        let long_fraction = format!("1.{}", "1".repeat(70_000));
        assert!(positional(&[&long_fraction, "m", "ft"]).starts_with("1.1"));
        assert_eq!(positional(&["10", "km", "mi", "2"]), "10 kilometres (6.21 mi)");
        assert_eq!(
            convert(&[("1", "10"), ("2", "km"), ("3", "mi"), ("abbr", "on")]),
            "10 km (6.2 mi)"
        );
        assert_eq!(
            convert(&[("1", "10"), ("2", "km"), ("3", "mi"), ("adj", "on")]),
            "10-kilometre (6.2 mi)"
        );
        assert_eq!(
            convert(&[("1", "10"), ("2", "km"), ("3", "mi"), ("sp", "us")]),
            "10 kilometers (6.2 mi)"
        );
        assert_eq!(
            convert(&[("1", "10"), ("2", "km"), ("3", "mi"), ("disp", "flip")]),
            "6.2 mi (10 kilometres)"
        );
        assert_eq!(positional(&["10", "km", "mi nmi"]), "10 kilometres (6.2 mi; 5.4 nmi)");
        assert_eq!(positional(&["7", "furlong"]), "7 furlong");
        assert_eq!(positional(&["-100", "C"]), "−100 °C (−148 °F)");
        assert_eq!(positional(&["1", "acre", "m2"]), "1 acre (4,000 m2)");
        assert_eq!(
            convert(&[("1", "100"), ("2", "km"), ("3", "mi"), ("sigfig", "3")]),
            "100 kilometres (62.1 mi)"
        );
        assert_eq!(positional(&["2", "oilbbl", "m3"]), "2 barrels (0.32 m3)");
        assert_eq!(positional(&["5", "ft", "10", "in", "m"]), "5 feet 10 inches (1.78 m)");
    }
}
