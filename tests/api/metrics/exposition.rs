//! A strict reader of the Prometheus text format, version 0.0.4
//! (prometheus.io/docs/instrumenting/exposition_formats): every line a `# HELP`, a
//! `# TYPE` or a sample; names and label names by the format's grammar; label values
//! with only `\\`, `\"` and `\n` escapes; every sample in a family typed before it,
//! with the suffixes its type allows; no sample twice; histogram buckets cumulative,
//! ending at `le="+Inf"` with the `_count`.

use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Debug, Clone)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Sample {
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

pub struct Exposition {
    samples: Vec<Sample>,
}

impl Exposition {
    pub fn samples(&self) -> impl Iterator<Item = &Sample> {
        self.samples.iter()
    }

    pub fn samples_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Sample> {
        self.samples.iter().filter(move |s| s.name == name)
    }

    /// The value of the sample with exactly these labels (in any order).
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let want: BTreeMap<&str, &str> = labels.iter().copied().collect();
        self.samples_named(name)
            .find(|s| {
                s.labels.len() == want.len()
                    && s.labels
                        .iter()
                        .all(|(n, v)| want.get(n.as_str()) == Some(&v.as_str()))
            })
            .map(|s| s.value)
    }
}

fn is_name(s: &str, colon: bool) -> bool {
    let mut chars = s.chars();
    let first_ok = |c: char| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':');
    chars.next().is_some_and(first_ok)
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
}

fn parse_value(s: &str) -> Result<f64, String> {
    match s {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => s.parse::<f64>().map_err(|_| format!("bad value {s:?}")),
    }
}

/// `name{a="x",b="y"} value`: the sample, or what is wrong with it.
fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line
        .find(['{', ' '])
        .ok_or_else(|| format!("no value: {line:?}"))?;
    let name = &line[..name_end];
    if !is_name(name, true) {
        return Err(format!("bad metric name {name:?}"));
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(body) = rest.strip_prefix('{') {
        let mut chars = body.char_indices().peekable();
        let end;
        loop {
            // A label name, or the closing brace.
            let start = match chars.peek() {
                Some((i, '}')) => {
                    end = *i;
                    break;
                }
                Some((i, _)) => *i,
                None => return Err(format!("unclosed labels: {line:?}")),
            };
            let eq = body[start..]
                .find('=')
                .ok_or_else(|| format!("label without '=': {line:?}"))?
                + start;
            let label = &body[start..eq];
            if !is_name(label, false) {
                return Err(format!("bad label name {label:?}"));
            }
            while chars.peek().is_some_and(|(i, _)| *i <= eq) {
                chars.next();
            }
            if chars.next().map(|(_, c)| c) != Some('"') {
                return Err(format!("label value not quoted: {line:?}"));
            }
            let mut value = String::new();
            loop {
                match chars.next() {
                    Some((_, '\\')) => match chars.next() {
                        Some((_, '\\')) => value.push('\\'),
                        Some((_, '"')) => value.push('"'),
                        Some((_, 'n')) => value.push('\n'),
                        other => return Err(format!("bad escape {other:?}: {line:?}")),
                    },
                    Some((_, '"')) => break,
                    Some((_, '\n')) | None => return Err(format!("unclosed value: {line:?}")),
                    Some((_, c)) => value.push(c),
                }
            }
            if labels.iter().any(|(n, _): &(String, String)| n == label) {
                return Err(format!("label {label} twice: {line:?}"));
            }
            labels.push((label.to_owned(), value));
            match chars.next() {
                Some((_, ',')) => {}
                Some((i, '}')) => {
                    end = i;
                    break;
                }
                other => return Err(format!("expected ',' or '}}', got {other:?}: {line:?}")),
            }
        }
        rest = &body[end + 1..];
    }
    let rest = rest
        .strip_prefix(' ')
        .ok_or_else(|| format!("no space before the value: {line:?}"))?;
    let mut fields = rest.split(' ');
    let value = parse_value(fields.next().unwrap_or(""))?;
    if let Some(ts) = fields.next() {
        ts.parse::<i64>()
            .map_err(|_| format!("bad timestamp {ts:?}"))?;
    }
    if fields.next().is_some() {
        return Err(format!("trailing text: {line:?}"));
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// The family a sample belongs to, given the declared types.
fn family_of<'a>(name: &'a str, types: &HashMap<String, String>) -> Option<&'a str> {
    if types.contains_key(name) {
        return Some(name);
    }
    ["_bucket", "_sum", "_count"]
        .iter()
        .filter_map(|suffix| name.strip_suffix(suffix))
        .find(|base| types.get(*base).is_some_and(|t| t == "histogram"))
}

pub fn parse_text(text: &str) -> Result<Exposition, String> {
    let body = text
        .strip_suffix('\n')
        .ok_or("the exposition does not end with a newline")?;
    let mut types: HashMap<String, String> = HashMap::new();
    let mut helped: HashSet<String> = HashSet::new();
    let mut samples = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for line in body.split('\n') {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap_or("");
            if !is_name(name, true) || !helped.insert(name.to_owned()) {
                return Err(format!("bad or repeated HELP: {line:?}"));
            }
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest
                .split_once(' ')
                .ok_or_else(|| format!("bad TYPE: {line:?}"))?;
            if !is_name(name, true)
                || !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind)
            {
                return Err(format!("bad TYPE: {line:?}"));
            }
            if types.insert(name.to_owned(), kind.to_owned()).is_some() {
                return Err(format!("TYPE twice: {line:?}"));
            }
        } else if line.starts_with('#') {
            return Err(format!(
                "unknown comment line (an OpenMetrics one?): {line:?}"
            ));
        } else {
            let sample = parse_sample(line)?;
            let family = family_of(&sample.name, &types)
                .ok_or_else(|| format!("sample of no typed family: {line:?}"))?;
            if types[family] == "counter" && !family.ends_with("_total") {
                return Err(format!("a 0.0.4 counter named without _total: {family}"));
            }
            let mut key_labels = sample.labels.clone();
            key_labels.sort();
            if !seen.insert(format!("{}{:?}", sample.name, key_labels)) {
                return Err(format!("sample twice: {line:?}"));
            }
            samples.push(sample);
        }
    }
    check_histograms(&samples, &types)?;
    Ok(Exposition { samples })
}

/// Buckets of each series cumulative, the last `+Inf` and equal to `_count`.
fn check_histograms(samples: &[Sample], types: &HashMap<String, String>) -> Result<(), String> {
    for (family, _) in types.iter().filter(|(_, t)| *t == "histogram") {
        let bucket = format!("{family}_bucket");
        let mut series: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
        for s in samples.iter().filter(|s| s.name == bucket) {
            let le = s
                .label("le")
                .ok_or_else(|| format!("{bucket} without le"))?;
            let mut rest: Vec<_> = s
                .labels
                .iter()
                .filter(|(n, _)| n != "le")
                .cloned()
                .collect();
            rest.sort();
            series
                .entry(format!("{rest:?}"))
                .or_default()
                .push((parse_value(le)?, s.value));
        }
        for (labels, buckets) in series {
            let mut last = (f64::NEG_INFINITY, 0.0);
            for &(le, count) in &buckets {
                if le <= last.0 || count < last.1 {
                    return Err(format!("{family}{labels}: buckets not cumulative"));
                }
                last = (le, count);
            }
            if last.0 != f64::INFINITY {
                return Err(format!("{family}{labels}: no +Inf bucket"));
            }
            let count = samples
                .iter()
                .filter(|s| s.name == format!("{family}_count"))
                .find(|s| {
                    let mut l = s.labels.clone();
                    l.sort();
                    format!("{l:?}") == labels
                })
                .ok_or_else(|| format!("{family}{labels}: no _count"))?;
            if count.value != last.1 {
                return Err(format!("{family}{labels}: +Inf bucket is not _count"));
            }
        }
    }
    Ok(())
}

#[test]
fn the_reader_refuses_what_the_format_does_not_allow() {
    let ok = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"q\\\"\\\\\\n\"} 1\n";
    let e = parse_text(ok).unwrap();
    assert_eq!(e.value("a_total", &[("x", "q\"\\\n")]), Some(1.0));
    for bad in [
        "a_total 1\n",
        "# TYPE a_total counter\na_total 1",
        "# TYPE a_total counter\na_total{x=\"1\"\"} 1\n",
        "# TYPE a_total counter\na_total{x=\"\\t\"} 1\n",
        "# TYPE a_total counter\na_total{1x=\"1\"} 1\n",
        "# TYPE a_total counter\na_total one\n",
        "# TYPE a_total counter\na_total 1\na_total 2\n",
        "# TYPE a counter\na_total 1\n",
        "# TYPE a_total counter\na_total 1\n# EOF\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum 0\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\nh_sum 0\n",
    ] {
        assert!(parse_text(bad).is_err(), "accepted {bad:?}");
    }
}
