using System.Globalization;
using CausalEval.Core.Randomness;

namespace CausalEval.Core.Running;

/// <summary>
/// Shard <see cref="Index"/> of <see cref="Count"/> (<c>--shard K/N</c>, 1 ≤ K ≤ N): the trials whose id hashes to
/// K − 1 modulo N. The choice depends on the trial id alone, so the N shards of a plan are disjoint, together hold
/// every trial exactly once, and a shard holds the same trials on every machine and on resume.
/// </summary>
public readonly record struct RunShard(int Index, int Count)
{
    /// <summary>Whether the trial with id <paramref name="trialId"/> belongs to this shard.</summary>
    public bool Contains(string trialId) =>
        // Hashed again (not the id's own hex digits) so shards split evenly whatever the id's format.
        Count <= 1 || StableId.Seed("shard", trialId) % (ulong)Count == (ulong)(Index - 1);

    /// <summary>The <c>K/N</c> form used on the command line and in <c>run.json</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");

    /// <summary>Reads <c>K/N</c>; anything else is bad input naming <paramref name="source"/> and <paramref name="field"/>.</summary>
    public static RunShard Parse(string text, string source, string field)
    {
        var parts = text.Split('/');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var k)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            throw new InputException(source, field, $"'{text}' is not K/N (e.g. 2/4: the second of four shards)");
        }
        if (n < 1 || k < 1 || k > n)
        {
            throw new InputException(source, field, $"'{text}': need 1 ≤ K ≤ N");
        }
        return new RunShard(k, n);
    }
}
