//! Drawing a forest: given each node's parent, the order to print the nodes in and the
//! `├─`/`└─` prefix of each. Pure; nodes caught in a cycle (which the kernel never
//! makes, but nothing here trusts that) are printed as roots.

/// A node in drawing order: its index and its prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placed {
    pub index: usize,
    pub depth: usize,
    pub prefix: String,
}

/// Lays out nodes `0..parents.len()`; `parents[i]` is node i's parent. Roots and
/// siblings keep their input order, so sort the input first.
pub fn layout(parents: &[Option<usize>]) -> Vec<Placed> {
    let n = parents.len();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut roots = Vec::new();
    for (i, parent) in parents.iter().enumerate() {
        match parent {
            Some(p) if *p < n && *p != i => children[*p].push(i),
            _ => roots.push(i),
        }
    }
    let mut placed = Vec::with_capacity(n);
    let mut visited = vec![false; n];
    let mut stems = String::new();
    for &root in &roots {
        visit(
            root,
            0,
            None,
            &children,
            &mut visited,
            &mut stems,
            &mut placed,
        );
    }
    // Whatever was not reached sits on a cycle: show it rather than lose it.
    for i in 0..n {
        if !visited[i] {
            visit(i, 0, None, &children, &mut visited, &mut stems, &mut placed);
        }
    }
    placed
}

fn visit(
    node: usize,
    depth: usize,
    last: Option<bool>,
    children: &[Vec<usize>],
    visited: &mut [bool],
    stems: &mut String,
    placed: &mut Vec<Placed>,
) {
    if visited[node] {
        return;
    }
    visited[node] = true;
    let prefix = match last {
        None => String::new(),
        Some(true) => format!("{stems}└─"),
        Some(false) => format!("{stems}├─"),
    };
    placed.push(Placed {
        index: node,
        depth,
        prefix,
    });
    let before = stems.len();
    match last {
        None => {}
        Some(true) => stems.push_str("  "),
        Some(false) => stems.push_str("│ "),
    }
    let kids: Vec<usize> = children[node]
        .iter()
        .copied()
        .filter(|&k| !visited[k])
        .collect();
    for (i, &kid) in kids.iter().enumerate() {
        visit(
            kid,
            depth + 1,
            Some(i + 1 == kids.len()),
            children,
            visited,
            stems,
            placed,
        );
    }
    stems.truncate(before);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drawn(parents: &[Option<usize>]) -> Vec<String> {
        layout(parents)
            .into_iter()
            .map(|p| format!("{}{}", p.prefix, p.index))
            .collect()
    }

    #[test]
    fn nested() {
        // 0 ─ 1 ─ 3
        //   └ 2
        // 4
        let parents = [None, Some(0), Some(0), Some(1), None];
        assert_eq!(drawn(&parents), ["0", "├─1", "│ └─3", "└─2", "4"]);
    }

    #[test]
    fn deeper_last_branch() {
        let parents = [None, Some(0), Some(1), Some(1)];
        assert_eq!(drawn(&parents), ["0", "└─1", "  ├─2", "  └─3"]);
    }

    #[test]
    fn cycles_and_bad_parents_do_not_hang_or_lose_nodes() {
        let parents = [Some(1), Some(0), Some(2), Some(99), None];
        let placed = layout(&parents);
        let mut seen: Vec<usize> = placed.iter().map(|p| p.index).collect();
        seen.sort();
        assert_eq!(seen, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn empty() {
        assert!(layout(&[]).is_empty());
    }
}
