namespace CausalEval.Core.Worlds;

/// <summary>A directed graph over a list of variables as a bit set: bit <c>from·n + to</c>, one 64-bit word up to 8 variables.</summary>
internal static class AdjacencyBits
{
    /// <summary>Words the bit set of <paramref name="variables"/> variables takes.</summary>
    public static int Words(int variables) => (variables * variables + 63) >> 6;

    /// <summary>Sets the bit of every edge (an edge listed twice sets it once); false when an edge names another variable.</summary>
    public static bool TryFill(ReadOnlySpan<string> variables, ReadOnlySpan<DirectedLink> edges, Span<ulong> adjacency)
    {
        var n = variables.Length;
        foreach (var edge in edges)
        {
            var from = VariableNames.IndexOf(variables, edge.From);
            var to = VariableNames.IndexOf(variables, edge.To);
            if (from < 0 || to < 0)
            {
                return false;
            }
            var bit = from * n + to;
            adjacency[bit >> 6] |= 1UL << bit;
        }
        return true;
    }
}
