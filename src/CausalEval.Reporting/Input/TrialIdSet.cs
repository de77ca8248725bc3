using System.Globalization;

namespace CausalEval.Reporting.Input;

/// <summary>
/// The trial ids a report has read, to count a trial repeated across run folders once. Ids the runner writes are 16
/// lower-case hex digits (64 bits of a stable hash): those are kept as numbers, 8 bytes each instead of a string of
/// ~56, so a report's memory barely grows with its trials; any other id is kept as text.
/// </summary>
internal sealed class TrialIdSet
{
    private readonly HashSet<ulong> _hashes = [];
    private readonly HashSet<string> _others = new(StringComparer.Ordinal);

    /// <summary>Adds <paramref name="trialId"/>; false when it was there already.</summary>
    public bool Add(string trialId) =>
        IsHex16(trialId) && ulong.TryParse(trialId, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hash)
            ? _hashes.Add(hash)
            : _others.Add(trialId);

    /// <summary>Only the canonical spelling maps to a number, so "00AB…" and "00ab…" stay two ids, as the text would.</summary>
    private static bool IsHex16(string id)
    {
        if (id.Length != 16)
        {
            return false;
        }
        foreach (var c in id)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }
        return true;
    }
}
