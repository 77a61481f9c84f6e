//! Pictures drawn on the server as inline SVG: a world map from country
//! outlines embedded in the binary (Natural Earth 1:110m via world-atlas,
//! no tile server, works air-gapped) and bar charts. Every mark carries its
//! data in `data-*` attributes, so what is drawn can be checked.

use std::fmt::Write;
use std::sync::OnceLock;

use isx_domain::ThreatType;
use isx_store::MapPoint;
use serde_json::Value;

/// Map size in SVG units (equirectangular: 2 units per degree).
pub const MAP_W: f64 = 720.0;
pub const MAP_H: f64 = 360.0;

/// The map position of a coordinate (equirectangular projection).
pub fn project(lat: f64, lon: f64) -> (f64, f64) {
    (
        (lon.clamp(-180.0, 180.0) + 180.0) / 360.0 * MAP_W,
        (90.0 - lat.clamp(-90.0, 90.0)) / 180.0 * MAP_H,
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The country outlines as SVG paths, decoded once from the embedded
/// TopoJSON (delta-encoded, quantised arcs).
fn land() -> &'static str {
    static LAND: OnceLock<String> = OnceLock::new();
    LAND.get_or_init(|| {
        decode_topology(include_str!("../../assets/countries-110m.json")).unwrap_or_default()
    })
}

fn decode_topology(text: &str) -> Option<String> {
    let topo: Value = serde_json::from_str(text).ok()?;
    let pair = |v: Option<&Value>| -> Option<(f64, f64)> {
        match v?.as_array()?.as_slice() {
            [a, b, ..] => Some((a.as_f64()?, b.as_f64()?)),
            _ => None,
        }
    };
    let transform = topo.get("transform")?;
    let (sx, sy) = pair(transform.get("scale"))?;
    let (tx, ty) = pair(transform.get("translate"))?;
    let arcs: Vec<Vec<(f64, f64)>> = topo
        .get("arcs")?
        .as_array()?
        .iter()
        .map(|arc| {
            let (mut x, mut y) = (0i64, 0i64);
            arc.as_array()
                .map(|pts| {
                    pts.iter()
                        .filter_map(|p| {
                            let [dx, dy, ..] = p.as_array()?.as_slice() else {
                                return None;
                            };
                            x += dx.as_i64()?;
                            y += dy.as_i64()?;
                            let (lon, lat) = (x as f64 * sx + tx, y as f64 * sy + ty);
                            Some(project(lat, lon))
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect();
    let ring = |indexes: &Value, out: &mut String| {
        let mut first = true;
        let mut prev_x = f64::NAN;
        for i in indexes.as_array().into_iter().flatten() {
            let Some(i) = i.as_i64() else { continue };
            let (idx, reversed) = if i < 0 { (!i, true) } else { (i, false) };
            let Some(arc) = usize::try_from(idx).ok().and_then(|k| arcs.get(k)) else {
                continue;
            };
            let pts: Vec<&(f64, f64)> = if reversed {
                arc.iter().rev().collect()
            } else {
                arc.iter().collect()
            };
            for (j, (x, y)) in pts.iter().enumerate() {
                if j == 0 && !first {
                    continue;
                }
                // A ring crossing the antimeridian would draw a line across
                // the whole map: start a new subpath on the other side.
                let jump = (x - prev_x).abs() > MAP_W / 2.0;
                let _ = write!(
                    out,
                    "{}{x:.1},{y:.1}",
                    if first || jump { "M" } else { "L" }
                );
                first = false;
                prev_x = *x;
            }
        }
        out.push('Z');
    };
    let mut svg = String::new();
    let geometries = topo.get("objects")?.get("countries")?.get("geometries")?;
    for g in geometries.as_array()? {
        let name = g
            .get("properties")
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let arcs_of = || {
            g.get("arcs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        };
        let mut d = String::new();
        match g.get("type").and_then(Value::as_str) {
            Some("Polygon") => {
                for r in arcs_of() {
                    ring(r, &mut d);
                }
            }
            Some("MultiPolygon") => {
                for poly in arcs_of() {
                    for r in poly.as_array().into_iter().flatten() {
                        ring(r, &mut d);
                    }
                }
            }
            _ => continue,
        }
        let _ = write!(
            svg,
            "<path class=\"country\" d=\"{d}\"><title>{}</title></path>",
            escape(name)
        );
    }
    Some(svg)
}

/// The world map with one circle per located address (area by URL count).
pub fn world_map(points: &[MapPoint]) -> String {
    world_map_as("url-map", "URL(s)", points)
}

/// A world map with element id `id`; `unit` names what `urls` counts.
pub fn world_map_as(id: &str, unit: &str, points: &[MapPoint]) -> String {
    let max = points.iter().map(|p| p.urls).max().unwrap_or(1).max(1) as f64;
    let mut svg = format!(
        "<svg id=\"{id}\" class=\"map\" viewBox=\"0 0 {MAP_W} {MAP_H}\" role=\"img\" aria-label=\"Map of {} located addresses\">\
         <rect class=\"sea\" width=\"{MAP_W}\" height=\"{MAP_H}\"/><g class=\"land\">{}</g><g class=\"points\">",
        points.len(),
        land()
    );
    for p in points {
        let (x, y) = project(p.latitude, p.longitude);
        let r = 2.0 + 6.0 * (p.urls as f64 / max).sqrt();
        let _ = write!(
            svg,
            "<circle class=\"point\" cx=\"{x:.2}\" cy=\"{y:.2}\" r=\"{r:.1}\" data-ip=\"{}\" data-lat=\"{}\" data-lon=\"{}\" data-urls=\"{}\"><title>{} ({}) — {} {unit}</title></circle>",
            escape(&p.ip),
            p.latitude,
            p.longitude,
            p.urls,
            escape(&p.ip),
            escape(p.country.as_deref().unwrap_or("?")),
            p.urls
        );
    }
    svg.push_str("</g></svg>");
    svg
}

/// The colour of a threat type in charts.
pub fn threat_colour(t: ThreatType) -> &'static str {
    match t {
        ThreatType::Phishing => "#d9822b",
        ThreatType::MalwareDistribution => "#c23030",
        ThreatType::CommandAndControl => "#7157d9",
        ThreatType::Scam => "#d4a017",
        ThreatType::ExploitKit => "#a82255",
        ThreatType::Cryptojacking => "#0f9960",
        ThreatType::Spam => "#2b95d6",
        ThreatType::Other => "#8a9ba8",
    }
}

/// New URLs per day, stacked by threat type. `per_day` holds
/// (day label, threat, count), days ascending.
/// Where a day label under a bar goes: centred under it, unless that
/// would run past the chart's right edge (a label is about 34 units wide),
/// then ending at the edge — the last label is never clipped.
fn tick_x(centre: f64, width: f64) -> (f64, &'static str) {
    const HALF_LABEL: f64 = 17.0;
    if centre + HALF_LABEL > width {
        (width - 1.0, "end")
    } else {
        (centre, "middle")
    }
}

pub fn threats_over_time(per_day: &[(String, ThreatType, i64)]) -> String {
    let mut days: Vec<&str> = per_day.iter().map(|(d, _, _)| d.as_str()).collect();
    days.dedup();
    let (w, h, left, bottom) = (720.0, 220.0, 40.0, 30.0);
    let totals: Vec<i64> = days
        .iter()
        .map(|d| {
            per_day
                .iter()
                .filter(|(x, _, _)| x == d)
                .map(|(_, _, n)| n)
                .sum()
        })
        .collect();
    let max = totals.iter().copied().max().unwrap_or(1).max(1) as f64;
    let slot = (w - left) / days.len().max(1) as f64;
    let bar_w = (slot * 0.8).max(1.0);
    let plot_h = h - bottom - 10.0;
    let mut svg = format!(
        "<svg id=\"threat-chart\" class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"New URLs per day by threat type\">\
         <line x1=\"{left}\" y1=\"{y0}\" x2=\"{w}\" y2=\"{y0}\" class=\"axis\"/>\
         <text x=\"{tx}\" y=\"18\" class=\"tick\" text-anchor=\"end\">{max}</text>",
        y0 = h - bottom,
        tx = left - 4.0,
    );
    for (i, day) in days.iter().enumerate() {
        let x = left + i as f64 * slot + (slot - bar_w) / 2.0;
        let mut y = h - bottom;
        for (d, t, n) in per_day.iter().filter(|(d, _, _)| d == day) {
            let bh = *n as f64 / max * plot_h;
            y -= bh;
            let _ = write!(
                svg,
                "<rect class=\"bar\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar_w:.1}\" height=\"{bh:.1}\" fill=\"{}\" data-day=\"{d}\" data-threat=\"{t}\" data-count=\"{n}\"><title>{d}: {n} {t}</title></rect>",
                threat_colour(*t)
            );
        }
        if days.len() <= 14 || i % (days.len() / 7).max(1) == 0 {
            let (tx, anchor) = tick_x(x + bar_w / 2.0, w);
            let _ = write!(
                svg,
                "<text x=\"{tx:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"{anchor}\">{}</text>",
                h - bottom + 16.0,
                day.get(5..).unwrap_or(day)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A colour per series, by its position (families in the botnet chart).
pub fn series_colour(i: usize) -> &'static str {
    const PALETTE: [&str; 10] = [
        "#c23030", "#2b95d6", "#d9822b", "#7157d9", "#0f9960", "#d4a017", "#a82255", "#14866d",
        "#8a9ba8", "#5c255c",
    ];
    PALETTE.get(i % PALETTE.len()).copied().unwrap_or("#8a9ba8")
}

/// Events per day stacked by series (malware family): `per_day` holds
/// (day label, series, count), days ascending; `series` fixes the order
/// and colours.
pub fn stacked_per_day(
    id: &str,
    label: &str,
    series: &[String],
    per_day: &[(String, String, u64)],
) -> String {
    let mut days: Vec<&str> = per_day.iter().map(|(d, _, _)| d.as_str()).collect();
    days.dedup();
    let (w, h, left, bottom) = (720.0, 220.0, 40.0, 30.0);
    let max = days
        .iter()
        .map(|d| {
            per_day
                .iter()
                .filter(|(x, _, _)| x == d)
                .map(|(_, _, n)| *n)
                .sum::<u64>()
        })
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let slot = (w - left) / days.len().max(1) as f64;
    let bar_w = (slot * 0.8).max(1.0);
    let plot_h = h - bottom - 10.0;
    let mut svg = format!(
        "<svg id=\"{id}\" class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\">\
         <line x1=\"{left}\" y1=\"{y0}\" x2=\"{w}\" y2=\"{y0}\" class=\"axis\"/>\
         <text x=\"{tx}\" y=\"18\" class=\"tick\" text-anchor=\"end\">{max}</text>",
        escape(label),
        y0 = h - bottom,
        tx = left - 4.0,
    );
    for (i, day) in days.iter().enumerate() {
        let x = left + i as f64 * slot + (slot - bar_w) / 2.0;
        let mut y = h - bottom;
        for (si, name) in series.iter().enumerate() {
            let Some((_, _, n)) = per_day.iter().find(|(d, s, _)| d == day && s == name) else {
                continue;
            };
            let bh = *n as f64 / max * plot_h;
            y -= bh;
            let _ = write!(
                svg,
                "<rect class=\"bar\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar_w:.1}\" height=\"{bh:.1}\" fill=\"{}\" data-day=\"{day}\" data-series=\"{}\" data-count=\"{n}\"><title>{day}: {n} {}</title></rect>",
                series_colour(si),
                escape(name),
                escape(name)
            );
        }
        // At most about ten day labels, the last day always labelled.
        let step = days.len().div_ceil(10).max(1);
        if (days.len() - 1 - i).is_multiple_of(step) {
            let (tx, anchor) = tick_x(x + bar_w / 2.0, w);
            let _ = write!(
                svg,
                "<text x=\"{tx:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"{anchor}\">{}</text>",
                h - bottom + 16.0,
                day.get(5..).unwrap_or(day)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (x, anchor) of every day label of a chart.
    fn ticks(svg: &str) -> Vec<(f64, String)> {
        svg.split("<text ")
            .skip(1)
            .filter(|t| t.contains("class=\"tick\"") && !t.contains("y=\"18\""))
            .map(|t| {
                let attr = |name: &str| {
                    let at = t.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                    t[at..at + t[at..].find('"').unwrap()].to_owned()
                };
                (attr("x").parse().unwrap(), attr("text-anchor"))
            })
            .collect()
    }

    #[test]
    fn the_last_day_label_stays_inside_the_chart() {
        // 29 days: the URL chart labels every 4th, the last included, under
        // a bar 19 units wide — centred there, "11-28" ran past the edge.
        let days: Vec<String> = (1..=29).map(|d| format!("2026-11-{d:02}")).collect();
        let per_day: Vec<(String, ThreatType, i64)> = days
            .iter()
            .map(|d| (d.clone(), ThreatType::Phishing, 3))
            .collect();
        let series = vec!["Mirai".to_owned()];
        let stacked: Vec<(String, String, u64)> = days
            .iter()
            .map(|d| (d.clone(), "Mirai".to_owned(), 2))
            .collect();
        for svg in [
            threats_over_time(&per_day),
            stacked_per_day("c", "events", &series, &stacked),
        ] {
            let t = ticks(&svg);
            assert!(t.len() >= 5, "{svg}");
            for (x, anchor) in &t {
                match anchor.as_str() {
                    "middle" => assert!(x + 17.0 <= 720.0 && x - 17.0 >= 0.0, "{x}"),
                    "end" => assert!(*x <= 720.0 && x - 34.0 >= 0.0, "{x}"),
                    other => panic!("{other}"),
                }
            }
            assert_eq!(t.last().map(|(_, a)| a.as_str()), Some("end"), "{t:?}");
        }
    }

    #[test]
    fn projection_puts_known_places_where_they_belong() {
        assert_eq!(project(0.0, 0.0), (360.0, 180.0));
        assert_eq!(project(90.0, -180.0), (0.0, 0.0));
        let (x, y) = project(51.5, -0.1);
        assert!((x - 359.8).abs() < 0.01 && (y - 77.0).abs() < 0.01);
    }

    #[test]
    fn the_embedded_outlines_decode_into_every_country() {
        let land = land();
        assert!(land.matches("<path").count() > 170, "countries drawn");
        assert!(land.contains("<title>Germany</title>"));
        // Every coordinate lies on the map.
        for n in land.split(['M', 'L', 'Z', ',', '"', '<', '>']) {
            if let Ok(v) = n.parse::<f64>() {
                assert!((-0.1..=MAP_W + 0.1).contains(&v), "{v}");
            }
        }
    }

    #[test]
    fn points_and_bars_carry_their_data() {
        let map = world_map(&[MapPoint {
            ip: "192.0.2.1".into(),
            latitude: 51.5,
            longitude: -0.1,
            country: Some("GB".into()),
            urls: 3,
        }]);
        assert!(map.contains("data-ip=\"192.0.2.1\"") && map.contains("cx=\"359.80\""));
        let chart = threats_over_time(&[
            ("2026-11-22".into(), ThreatType::Phishing, 2),
            ("2026-11-22".into(), ThreatType::Spam, 1),
            ("2026-11-23".into(), ThreatType::Phishing, 4),
        ]);
        assert_eq!(chart.matches("class=\"bar\"").count(), 3);
        assert!(chart.contains("data-threat=\"spam\" data-count=\"1\""));
    }
}
