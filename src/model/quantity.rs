//! Kubernetes resource quantities (`250m`, `1.5Gi`, `1e3`): syntax checks
//! and comparison, as the API server parses them.

/// The value of a quantity in base units, or why it is not one.
pub fn parse(q: &str) -> Result<f64, String> {
    let bad = || format!("`{q}` is not a Kubernetes quantity (examples: 250m, 1, 512Mi, 10Gi)");
    let q_trim = q.strip_prefix('+').unwrap_or(q);
    let split = q_trim.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(q_trim.len());
    let (number, suffix) = q_trim.split_at(split);
    if number.is_empty() || number == "." || number.matches('.').count() > 1 {
        return Err(bad());
    }
    let n: f64 = number.parse().map_err(|_| bad())?;
    let factor = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        s if s.starts_with(['e', 'E']) => {
            let exp: i32 = s[1..].parse().map_err(|_| bad())?;
            10f64.powi(exp)
        }
        _ => return Err(bad()),
    };
    Ok(n * factor)
}

/// A byte count as a storage quantity, rounded up to a whole Gi (or Mi
/// below 1Gi).
pub fn bytes_ceil(bytes: f64) -> String {
    let gi = 1024f64.powi(3);
    if bytes >= gi {
        format!("{}Gi", (bytes / gi).ceil())
    } else {
        format!("{}Mi", (bytes / 1024f64.powi(2)).ceil().max(1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_round_up() {
        assert_eq!(bytes_ceil(8.0 * parse("200Gi").unwrap()), "1600Gi");
        assert_eq!(bytes_ceil(parse("1.5Gi").unwrap()), "2Gi");
        assert_eq!(bytes_ceil(parse("300Mi").unwrap() * 3.0), "900Mi");
    }

    #[test]
    fn parses_kubernetes_quantities() {
        assert_eq!(parse("250m").unwrap(), 0.25);
        assert_eq!(parse("1Gi").unwrap(), 1073741824.0);
        assert_eq!(parse("1e3").unwrap(), 1000.0);
        assert_eq!(parse("0.5").unwrap(), 0.5);
        for bad in ["1 GB", "1GB", "", "-1", "abc", "1..2", "Gi"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
