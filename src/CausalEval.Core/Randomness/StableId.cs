using System.Security.Cryptography;
using System.Text;

namespace CausalEval.Core.Randomness;

/// <summary>Identifiers and seeds derived from text, identical on every machine and run.</summary>
public static class StableId
{
    /// <summary>First 16 hex digits of SHA-256 over the length-prefixed parts.</summary>
    public static string Hex16(params ReadOnlySpan<string?> parts)
    {
        Span<byte> hash = stackalloc byte[32];
        Hash(parts, hash);
        return Convert.ToHexStringLower(hash[..8]);
    }

    /// <summary>A 64-bit seed from the same hash.</summary>
    public static ulong Seed(params ReadOnlySpan<string?> parts)
    {
        Span<byte> hash = stackalloc byte[32];
        Hash(parts, hash);
        return BitConverter.ToUInt64(hash[8..16]);
    }

    private static void Hash(ReadOnlySpan<string?> parts, Span<byte> destination)
    {
        // Each part is written as "<length>:<text>" (null as "-1:"), so no two different lists of parts
        // give the same text, whatever characters the parts contain.
        var text = new StringBuilder();
        foreach (var part in parts)
        {
            text.Append(part?.Length ?? -1).Append(':').Append(part);
        }
        SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()), destination);
    }
}
