//! The threat taxonomy of malicious URLs (and, later, indicators).

choice_enum! {
    /// What a malicious URL is used for. A fixed taxonomy: feeds from other
    /// sources are mapped onto it with [`ThreatType::from_source_term`].
    ThreatType, "threat type" {
        Phishing => "phishing",
        MalwareDistribution => "malware-distribution",
        CommandAndControl => "command-and-control",
        Scam => "scam",
        ExploitKit => "exploit-kit",
        Cryptojacking => "cryptojacking",
        Spam => "spam",
        Other => "other",
    }
}

impl ThreatType {
    /// The kind of infrastructure (STIX `infrastructure_types`) a URL of
    /// this threat type is part of, when the type says.
    pub fn infrastructure(self) -> Option<&'static str> {
        match self {
            ThreatType::CommandAndControl => Some("command-and-control"),
            ThreatType::Phishing => Some("phishing"),
            ThreatType::MalwareDistribution | ThreatType::ExploitKit => Some("hosting-malware"),
            ThreatType::Scam | ThreatType::Cryptojacking | ThreatType::Spam | ThreatType::Other => {
                None
            }
        }
    }

    /// Maps a term of a source's vocabulary onto the taxonomy: URLhaus
    /// (`malware_download`), PhishTank/OpenPhish (`phish`), abuse.ch and
    /// MISP (`botnet_cc`, `c2`), STIX indicator/infrastructure vocabularies
    /// (`malicious-activity` stays `other`), and the spellings of the
    /// taxonomy itself with `_`, `-` or spaces. Terms it does not know are
    /// `None`; callers decide whether that is `Other` or an error.
    pub fn from_source_term(term: &str) -> Option<ThreatType> {
        let t: String = term
            .trim()
            .chars()
            .map(|c| match c {
                '_' | ' ' | '/' => '-',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        let threat = match t.as_str() {
            "phishing"
            | "phish"
            | "phishing-url"
            | "credential-phishing"
            | "credential-harvesting" => ThreatType::Phishing,
            "malware-distribution"
            | "malware-download"
            | "malware"
            | "malware-url"
            | "payload-delivery"
            | "dropper"
            | "drive-by-download"
            | "drive-by"
            | "download" => ThreatType::MalwareDistribution,
            "command-and-control"
            | "c2"
            | "c&c"
            | "cnc"
            | "c-c"
            | "botnet-cc"
            | "botnet-c2"
            | "c2-server"
            | "command-control" => ThreatType::CommandAndControl,
            "scam" | "fraud" | "fake-shop" | "tech-support-scam" | "investment-scam" => {
                ThreatType::Scam
            }
            "exploit-kit" | "ek" | "exploit" | "exploitkit" => ThreatType::ExploitKit,
            "cryptojacking" | "coinminer" | "cryptomining" | "miner" | "coinhive" => {
                ThreatType::Cryptojacking
            }
            "spam" | "spamvertised" | "spam-url" => ThreatType::Spam,
            "other" | "unknown" | "malicious" | "malicious-activity" => ThreatType::Other,
            _ => return None,
        };
        Some(threat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_vocabularies_map_onto_the_taxonomy() {
        assert_eq!(
            ThreatType::from_source_term("malware_download"),
            Some(ThreatType::MalwareDistribution)
        );
        assert_eq!(
            ThreatType::from_source_term("Phish"),
            Some(ThreatType::Phishing)
        );
        assert_eq!(
            ThreatType::from_source_term("botnet_cc"),
            Some(ThreatType::CommandAndControl)
        );
        assert_eq!(
            ThreatType::from_source_term("C&C"),
            Some(ThreatType::CommandAndControl)
        );
        assert_eq!(
            ThreatType::from_source_term("coinminer"),
            Some(ThreatType::Cryptojacking)
        );
        assert_eq!(
            ThreatType::from_source_term("exploit kit"),
            Some(ThreatType::ExploitKit)
        );
        assert_eq!(ThreatType::from_source_term("definitely-new"), None);
        // Every taxonomy spelling maps onto itself.
        for t in ThreatType::ALL {
            assert_eq!(ThreatType::from_source_term(t.as_str()), Some(*t));
        }
    }
}

choice_enum! {
    /// The four botnet products. Events about infected machines and IoT
    /// devices are *victim data* (they go only to the members whose
    /// constituency covers them); command-and-control servers and malicious
    /// domains go to every member entitled by the marking.
    BotnetProduct, "botnet product" {
        Infected => "botnet-infected",
        Iot => "botnet-iot",
        C2 => "botnet-c2",
        Domains => "botnet-domains",
    }
}

impl BotnetProduct {
    /// Whether events of this product describe victims.
    pub fn is_victim_data(self) -> bool {
        matches!(self, BotnetProduct::Infected | BotnetProduct::Iot)
    }

    /// The short name used in file names and URLs (`infected`, `iot`, `c2`, `domains`).
    pub fn short(self) -> &'static str {
        self.as_str().trim_start_matches("botnet-")
    }

    /// Parses `botnet-c2` or the short `c2`.
    pub fn from_any(text: &str) -> Result<Self, crate::DomainError> {
        let t = text.trim();
        if let Some(p) = Self::ALL.iter().find(|p| p.short().eq_ignore_ascii_case(t)) {
            return Ok(*p);
        }
        t.parse()
    }
}
