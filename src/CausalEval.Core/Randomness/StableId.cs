using System.Security.Cryptography;
using System.Text;

namespace CausalEval.Core.Randomness;

/// <summary>Identifiers and seeds derived from text, identical on every machine and run.</summary>
public static class StableId
{
    /// <summary>First 16 hex digits of SHA-256 over the parts joined by '|'.</summary>
    public static string Hex16(params ReadOnlySpan<string> parts)
    {
        Span<byte> hash = stackalloc byte[32];
        Hash(parts, hash);
        return Convert.ToHexStringLower(hash[..8]);
    }

    /// <summary>A 64-bit seed from the same hash.</summary>
    public static ulong Seed(params ReadOnlySpan<string> parts)
    {
        Span<byte> hash = stackalloc byte[32];
        Hash(parts, hash);
        return BitConverter.ToUInt64(hash[8..16]);
    }

    private static void Hash(ReadOnlySpan<string> parts, Span<byte> destination)
    {
        var text = string.Join('|', parts.ToArray());
        SHA256.HashData(Encoding.UTF8.GetBytes(text), destination);
    }
}
