namespace CausalEval.Core.Inference;

/// <summary>
/// The family's DAGs as a trie over their parent codes (node 0's code, then node 1's, …), for branch-and-bound passes:
/// a log weight that is a sum of per-(node, code) terms plus the prior is bounded above on a whole subtree by the terms
/// fixed so far plus each remaining node's best term plus the best prior, so a subtree whose bound is below the
/// threshold is left out with a proven bound on every DAG in it. The family numbers its DAGs in trie order, so the DAGs
/// under a prefix are a contiguous range of ids.
/// </summary>
internal sealed class DagIndex
{
    private DagIndex(byte[][] codes, int[][] starts, int[][] children)
    {
        Codes = codes;
        Starts = starts;
        Children = children;
    }

    /// <summary>[level][i]: the code of node <c>level</c> at trie node i of that level (levels 0 … n − 2).</summary>
    public byte[][] Codes { get; }

    /// <summary>[level][i]: the first DAG id under trie node i; one sentinel entry at the end.</summary>
    public int[][] Starts { get; }

    /// <summary>[level][i]: the first child (a trie node of level + 1) of trie node i; one sentinel entry (levels 0 … n − 3).</summary>
    public int[][] Children { get; }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // run once per process: straight to optimised code
    public static DagIndex Build(DagFamily family)
    {
        var n = family.Variables;
        var count = family.Count;
        // Trie levels 0 … n − 2: a new node at level k wherever the prefix of codes 0 … k changes.
        var levels = Math.Max(1, n - 1);
        var codes = new List<byte>[levels];
        var starts = new List<int>[levels];
        for (var k = 0; k < levels; k++)
        {
            codes[k] = [];
            starts[k] = [];
        }
        for (var d = 0; d < count; d++)
        {
            var changed = d == 0;
            for (var k = 0; k < levels; k++)
            {
                changed = changed || family.Codes[d * n + k] != family.Codes[(d - 1) * n + k];
                if (changed)
                {
                    codes[k].Add(family.Codes[d * n + k]);
                    starts[k].Add(d);
                }
            }
        }
        var startArrays = new int[levels][];
        for (var k = 0; k < levels; k++)
        {
            starts[k].Add(count);
            startArrays[k] = [.. starts[k]];
        }
        // A trie node's first child is the first node of the next level starting at or after its first position.
        var children = new int[Math.Max(0, levels - 1)][];
        for (var k = 0; k < levels - 1; k++)
        {
            var parent = startArrays[k];
            var child = startArrays[k + 1];
            var first = new int[parent.Length];
            var c = 0;
            for (var i = 0; i < parent.Length; i++)
            {
                while (child[c] < parent[i])
                {
                    c++;
                }
                first[i] = c;
            }
            children[k] = first;
        }
        return new DagIndex([.. codes.Select(c => c.ToArray())], startArrays, children);
    }
}
