using System.Security.Cryptography;
using System.Text;
using CausalEval.Core.Randomness;

namespace CausalEval.Core.Tests.Randomness;

public class StableIdTests
{
    [Fact]
    public void Hex16_IsDeterministicLowerCaseHex()
    {
        var id = StableId.Hex16("explore-exploit", "1", "test", "test-0000", "builtin/expert");

        Assert.Equal(id, StableId.Hex16("explore-exploit", "1", "test", "test-0000", "builtin/expert"));
        Assert.Equal(16, id.Length);
        Assert.All(id, c => Assert.True(char.IsAsciiHexDigitLower(c) || char.IsAsciiDigit(c), $"'{c}'"));
    }

    [Fact]
    public void Hex16_IsTheStartOfTheSha256OfTheLengthPrefixedParts()
    {
        var expected = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("1:a1:b1:c")))[..16];

        Assert.Equal(expected, StableId.Hex16("a", "b", "c"));
    }

    [Fact]
    public void DifferentInputs_GiveDifferentIdsAndSeeds()
    {
        Assert.NotEqual(StableId.Hex16("a", "b"), StableId.Hex16("b", "a"));
        Assert.NotEqual(StableId.Hex16("ab"), StableId.Hex16("a", "b"));
        Assert.NotEqual(StableId.Hex16("a", ""), StableId.Hex16("a"));
        Assert.NotEqual(StableId.Hex16("a|b", "c"), StableId.Hex16("a", "b|c"));
        Assert.NotEqual(StableId.Hex16("a", null), StableId.Hex16("a", ""));
        Assert.NotEqual(StableId.Seed("environment", "x"), StableId.Seed("environment", "y"));
        var ids = Enumerable.Range(0, 10_000).Select(i => StableId.Hex16("episode", i.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void Seed_IsDeterministicAndIndependentOfTheId()
    {
        Assert.Equal(StableId.Seed("x", "y"), StableId.Seed("x", "y"));
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes("1:x1:y"));
        Assert.Equal(BitConverter.ToUInt64(hash, 8), StableId.Seed("x", "y"));
    }

    [Fact]
    public void NonAsciiText_IsHashedAsUtf8()
    {
        var expected = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("11:température1:β")))[..16];

        Assert.Equal(expected, StableId.Hex16("température", "β"));
    }
}
