//! Valid Fargate cpu/memory pairs (AWS ECS task size table).

/// (cpu units, first memory MiB, last memory MiB, step MiB).
const SIZES: [(u32, u32, u32, u32); 7] = [
    (256, 512, 2048, 0), // irregular: 512, 1024, 2048
    (512, 1024, 4096, 1024),
    (1024, 2048, 8192, 1024),
    (2048, 4096, 16384, 1024),
    (4096, 8192, 30720, 1024),
    (8192, 16384, 61440, 4096),
    (16384, 32768, 122880, 8192),
];

pub(super) fn valid_cpus() -> Vec<u32> {
    SIZES.iter().map(|size| size.0).collect()
}

/// Memory sizes allowed with `cpu`, or `None` when `cpu` is not a Fargate size.
pub(super) fn valid_memories(cpu: u32) -> Option<Vec<u32>> {
    let &(_, first, last, step) = SIZES.iter().find(|size| size.0 == cpu)?;
    if step == 0 {
        return Some(vec![512, 1024, 2048]);
    }
    Some((first..=last).step_by(step as usize).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_aws() {
        assert_eq!(valid_memories(256), Some(vec![512, 1024, 2048]));
        assert_eq!(valid_memories(512), Some(vec![1024, 2048, 3072, 4096]));
        assert_eq!(valid_memories(1024).map(|m| m.len()), Some(7));
        assert_eq!(
            valid_memories(4096).map(|m| m.last().copied()),
            Some(Some(30720))
        );
        assert_eq!(valid_memories(8192).map(|m| m.len()), Some(12));
        assert_eq!(valid_memories(16384).map(|m| m.len()), Some(12));
        assert_eq!(valid_memories(300), None);
    }
}
