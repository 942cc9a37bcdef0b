//! Availability zones and subnet layout derived from `network`.

use super::types::{AvailabilityZones, Topology};
use ipnet::Ipv4Net;

/// The /16 layout of the design doc: public `x.y.1.0/24..`, private `x.y.11.0/24..`.
const CLASSIC_PREFIX: u8 = 16;
const CLASSIC_PRIVATE_OFFSET: usize = 10;
/// Carved subnets are /24, or 4 bits smaller than the VPC when the VPC is smaller than /20.
const CARVED_PREFIX: u8 = 24;
const CARVE_FROM_PREFIX_ABOVE: u8 = 20;
const SUBNET_BITS_FOR_SMALL_VPC: u8 = 4;

/// How many zones the network spans.
pub fn availability_zone_count(t: &Topology) -> usize {
    match &t.network.availability_zones {
        AvailabilityZones::Count(count) => usize::from(*count),
        AvailabilityZones::Names(names) => names.len(),
    }
}

/// `Count(n)` → `<region>a`, `<region>b`, …; `Names` → as written.
pub fn availability_zone_names(t: &Topology, region: &str) -> Vec<String> {
    match &t.network.availability_zones {
        AvailabilityZones::Count(count) => (b'a'..=b'z')
            .take(usize::from(*count))
            .map(|letter| format!("{region}{}", char::from(letter)))
            .collect(),
        AvailabilityZones::Names(names) => names.clone(),
    }
}

/// Public and private subnet CIDRs, one of each per zone: explicit lists when given, else
/// carved from the VPC cidr. An unparsable cidr yields empty lists (validation reports it).
pub fn subnet_cidrs(t: &Topology) -> (Vec<String>, Vec<String>) {
    let count = availability_zone_count(t);
    let carved = t
        .network
        .cidr
        .parse::<Ipv4Net>()
        .ok()
        .map(|vpc| carve_subnets(vpc.trunc(), count))
        .unwrap_or_default();
    let public = match &t.network.public_subnets {
        Some(explicit) => explicit.clone(),
        None => to_strings(&carved.0),
    };
    let private = match &t.network.private_subnets {
        Some(explicit) => explicit.clone(),
        None => to_strings(&carved.1),
    };
    (public, private)
}

fn to_strings(nets: &[Ipv4Net]) -> Vec<String> {
    nets.iter().map(ToString::to_string).collect()
}

/// Carves `count` public then `count` private subnets. Block 0 is skipped so that the design
/// doc's /16 layout (`.1.0/24` = first public, `.11.0/24` = first private) is one case of it.
pub fn carve_subnets(vpc: Ipv4Net, count: usize) -> (Vec<Ipv4Net>, Vec<Ipv4Net>) {
    let prefix = if vpc.prefix_len() > CARVE_FROM_PREFIX_ABOVE {
        vpc.prefix_len() + SUBNET_BITS_FOR_SMALL_VPC
    } else {
        CARVED_PREFIX
    };
    let Ok(blocks) = vpc.subnets(prefix) else {
        return (Vec::new(), Vec::new());
    };
    let blocks: Vec<Ipv4Net> = blocks
        .take(1 + 2 * count.max(CLASSIC_PRIVATE_OFFSET))
        .collect();
    let private_start = if vpc.prefix_len() == CLASSIC_PREFIX && count <= CLASSIC_PRIVATE_OFFSET {
        1 + CLASSIC_PRIVATE_OFFSET
    } else {
        1 + count
    };
    let pick =
        |start: usize| -> Vec<Ipv4Net> { blocks.iter().skip(start).take(count).copied().collect() };
    (pick(1), pick(private_start))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::types::{Discovery, NatGateways, Network};
    use std::collections::BTreeMap;

    fn topology(cidr: &str, zones: AvailabilityZones) -> Topology {
        Topology {
            name: "shop".into(),
            region: None,
            network: Network {
                cidr: cidr.into(),
                availability_zones: zones,
                nat_gateways: NatGateways::Count(1),
                public_subnets: None,
                private_subnets: None,
            },
            discovery: Discovery::default(),
            alarms: None,
            databases: BTreeMap::new(),
            repositories: BTreeMap::new(),
            load_balancer: None,
            api_gateway: None,
            lints: Default::default(),
            services: BTreeMap::new(),
        }
    }

    #[test]
    fn slash_16_uses_the_classic_layout() {
        let t = topology("10.0.0.0/16", AvailabilityZones::Count(2));
        let (public, private) = subnet_cidrs(&t);
        assert_eq!(public, ["10.0.1.0/24", "10.0.2.0/24"]);
        assert_eq!(private, ["10.0.11.0/24", "10.0.12.0/24"]);
    }

    #[test]
    fn slash_16_with_six_zones() {
        let t = topology("172.16.0.0/16", AvailabilityZones::Count(6));
        let (public, private) = subnet_cidrs(&t);
        assert_eq!(public.last().map(String::as_str), Some("172.16.6.0/24"));
        assert_eq!(private.first().map(String::as_str), Some("172.16.11.0/24"));
        assert_eq!(private.last().map(String::as_str), Some("172.16.16.0/24"));
    }

    #[test]
    fn other_prefixes_carve_in_order() {
        let t = topology("10.1.0.0/20", AvailabilityZones::Count(3));
        let (public, private) = subnet_cidrs(&t);
        assert_eq!(public, ["10.1.1.0/24", "10.1.2.0/24", "10.1.3.0/24"]);
        assert_eq!(private, ["10.1.4.0/24", "10.1.5.0/24", "10.1.6.0/24"]);

        let t = topology("192.168.0.0/24", AvailabilityZones::Count(2));
        let (public, private) = subnet_cidrs(&t);
        assert_eq!(public, ["192.168.0.16/28", "192.168.0.32/28"]);
        assert_eq!(private, ["192.168.0.48/28", "192.168.0.64/28"]);
    }

    #[test]
    fn carved_subnets_are_inside_the_vpc_and_disjoint() {
        for cidr in ["10.0.0.0/16", "10.0.0.0/18", "10.0.0.0/21", "10.0.0.0/24"] {
            for zones in 1..=6u8 {
                let vpc: Ipv4Net = cidr.parse().expect("test cidr");
                let (public, private) = carve_subnets(vpc, usize::from(zones));
                assert_eq!(public.len(), usize::from(zones), "{cidr}");
                assert_eq!(private.len(), usize::from(zones), "{cidr}");
                let all: Vec<_> = public.iter().chain(&private).collect();
                for (i, a) in all.iter().enumerate() {
                    assert!(vpc.contains(*a), "{a} in {cidr}");
                    for b in &all[i + 1..] {
                        assert!(!a.contains(*b) && !b.contains(*a), "{a} vs {b}");
                    }
                }
            }
        }
    }

    #[test]
    fn explicit_subnets_are_returned_as_written() {
        let mut t = topology("10.0.0.0/16", AvailabilityZones::Count(1));
        t.network.public_subnets = Some(vec!["10.0.100.0/24".into()]);
        t.network.private_subnets = Some(vec!["10.0.200.0/24".into()]);
        assert_eq!(
            subnet_cidrs(&t),
            (
                vec!["10.0.100.0/24".to_string()],
                vec!["10.0.200.0/24".to_string()]
            )
        );
    }

    #[test]
    fn zone_names() {
        let t = topology("10.0.0.0/16", AvailabilityZones::Count(3));
        assert_eq!(
            availability_zone_names(&t, "eu-west-1"),
            ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
        );
        let t = topology(
            "10.0.0.0/16",
            AvailabilityZones::Names(vec!["us-east-1d".into(), "us-east-1f".into()]),
        );
        assert_eq!(
            availability_zone_names(&t, "us-east-1"),
            ["us-east-1d", "us-east-1f"]
        );
    }
}
