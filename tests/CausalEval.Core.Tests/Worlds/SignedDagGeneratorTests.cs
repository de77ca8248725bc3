using CausalEval.Core.Randomness;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Tests.Worlds;

public class SignedDagGeneratorTests
{
    private static readonly DirectedLink DToB = new("D", "B");

    [Fact]
    public void Enumeration_FiveNodeFamilyHas3068281SignedAnd29281UnsignedDags()
    {
        const int n = 5;
        const int pairs = n * (n - 1) / 2;
        var choiceCount = (int)Math.Pow(3, pairs); // 59,049
        var choices = new sbyte[choiceCount][];
        for (var c = 0; c < choiceCount; c++)
        {
            choices[c] = new sbyte[pairs];
            var rest = c;
            for (var k = 0; k < pairs; k++)
            {
                choices[c][k] = (sbyte)(rest % 3 - 1);
                rest /= 3;
            }
        }
        var orders = Permutations(n).ToList();
        Assert.Equal(120, orders.Count);

        var signed = new long[orders.Count * choiceCount];
        var unsigned = new bool[1 << (n * n)];
        var adjacency = new sbyte[n * n];
        var next = 0;
        foreach (var order in orders)
        {
            foreach (var choice in choices)
            {
                SignedDagGenerator.FillAdjacency(order, choice, adjacency);
                long code = 0;
                var mask = 0;
                for (var i = 0; i < n * n; i++)
                {
                    code = code * 3 + (adjacency[i] + 1);
                    if (adjacency[i] != 0)
                    {
                        mask |= 1 << i;
                    }
                }
                signed[next++] = code;
                unsigned[mask] = true;
            }
        }
        Array.Sort(signed);
        var distinctSigned = 1;
        for (var i = 1; i < signed.Length; i++)
        {
            if (signed[i] != signed[i - 1])
            {
                distinctSigned++;
            }
        }

        Assert.Equal(3_068_281, distinctSigned);
        Assert.Equal(29_281, unsigned.Count(x => x));
    }

    private static IEnumerable<int[]> Permutations(int n)
    {
        var items = Enumerable.Range(0, n).ToArray();
        return Permute(items, 0);

        static IEnumerable<int[]> Permute(int[] items, int k)
        {
            if (k == items.Length)
            {
                yield return (int[])items.Clone();
                yield break;
            }
            for (var i = k; i < items.Length; i++)
            {
                (items[k], items[i]) = (items[i], items[k]);
                foreach (var p in Permute(items, k + 1))
                {
                    yield return p;
                }
                (items[k], items[i]) = (items[i], items[k]);
            }
        }
    }

    [Fact]
    public void FillAdjacency_PutsEachChoiceFromTheEarlierToTheLaterVariable()
    {
        // Order C, A, B: pairs (C,A), (C,B), (A,B).
        var adjacency = new sbyte[9];
        adjacency[4] = 9; // stale content is cleared
        SignedDagGenerator.FillAdjacency([2, 0, 1], [1, 0, -1], adjacency);

        // Row-major, from × to: A→B = −1 (A before B), C→A = +1 (C before A), C→B = 0.
        Assert.Equal<sbyte>([0, -1, 0, 0, 0, 0, 1, 0, 0], adjacency);
    }

    [Fact]
    public void Generate_SameSeedGivesIdenticalWorlds()
    {
        var options = new SignedDagOptions { HiddenConfounder = true };
        for (ulong seed = 0; seed < 50; seed++)
        {
            var a = SignedDagGenerator.Generate(options, new SeededRandom(seed));
            var b = SignedDagGenerator.Generate(options, new SeededRandom(seed));

            Assert.Equal<string>(a.Variables, b.Variables);
            Assert.Equal<Edge>(a.Edges, b.Edges);
            Assert.Equal<string>(a.Hidden, b.Hidden);
        }
    }

    [Fact]
    public void Generate_DifferentSeedsGiveDifferentWorlds()
    {
        var options = new SignedDagOptions();
        var distinct = Enumerable.Range(0, 100)
            .Select(s => string.Join(";", SignedDagGenerator.Generate(options, new SeededRandom((ulong)s)).Edges))
            .Distinct()
            .Count();

        Assert.True(distinct > 90, $"only {distinct} distinct worlds in 100 draws");
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void Generate_WorksForEverySupportedSize(int n)
    {
        var options = new SignedDagOptions { Variables = n, NoiseSd = 0.2 };
        var random = new SeededRandom((ulong)n);
        var expectedNames = Enumerable.Range(0, n).Select(i => ((char)('A' + i)).ToString()).ToArray();
        var totalEdges = 0;
        for (var draw = 0; draw < 200; draw++)
        {
            var world = SignedDagGenerator.Generate(options, random);

            Assert.Null(options.Validate());
            Assert.Equal<string>(expectedNames, world.Variables);
            Assert.Equal<string>(expectedNames, world.Observable);
            Assert.Equal(0.2, world.NoiseSd);
            Assert.All(world.Edges, e => Assert.True(e.Weight is 1 or -1, $"weight {e.Weight}"));
            Assert.True(world.Edges.Length <= n * (n - 1) / 2);
            totalEdges += world.Edges.Length;
        }
        // Each of the n(n−1)/2 pairs gets an edge with probability 2/3.
        var meanEdges = totalEdges / 200.0;
        var expected = 2.0 / 3 * n * (n - 1) / 2;
        Assert.InRange(meanEdges, expected * 0.9, expected * 1.1);
    }

    [Fact]
    public void Generate_ListsEdgesRowByRow()
    {
        var world = SignedDagGenerator.Generate(new SignedDagOptions { Variables = 8 }, new SeededRandom(17));
        var keys = world.Edges.Select(e => (world.IndexOf(e.From), world.IndexOf(e.To))).ToList();

        Assert.Equal(keys.OrderBy(k => k.Item1).ThenBy(k => k.Item2), keys);
    }

    [Fact]
    public void Generate_ARequiredLinkIsAlwaysPresent()
    {
        var options = new SignedDagOptions { RequiredLinks = [DToB] };
        var random = new SeededRandom(2024);
        for (var draw = 0; draw < 2_000; draw++)
        {
            var world = SignedDagGenerator.Generate(options, random);
            Assert.True(world.HasEdge("D", "B"), $"draw {draw} lacks D->B");
        }
    }

    [Fact]
    public void Generate_AForbiddenLinkIsNeverPresent_ButTheReverseDirectionStillOccurs()
    {
        var options = new SignedDagOptions { ForbiddenLinks = [DToB] };
        var random = new SeededRandom(2025);
        var reverse = 0;
        for (var draw = 0; draw < 2_000; draw++)
        {
            var world = SignedDagGenerator.Generate(options, random);
            Assert.False(world.HasEdge("D", "B"), $"draw {draw} has D->B");
            reverse += world.HasEdge("B", "D") ? 1 : 0;
        }
        Assert.InRange(reverse, 500, 900); // B before D (½) and an edge (⅔): about a third of the draws
    }

    [Fact]
    public void Generate_AHiddenConfounderIsAHiddenRootWithAtLeastTwoObservableChildren()
    {
        var options = new SignedDagOptions { HiddenConfounder = true };
        var random = new SeededRandom(7);
        for (var draw = 0; draw < 1_000; draw++)
        {
            var world = SignedDagGenerator.Generate(options, random);

            Assert.Equal<string>(["U"], world.Hidden);
            Assert.False(world.IsObservable("U"));
            Assert.Equal<string>(["A", "B", "C", "D", "E"], world.Observable);
            Assert.DoesNotContain(world.Edges, e => e.To == "U"); // a root
            var children = world.Edges.Where(e => e.From == "U").Select(e => e.To).ToList();
            Assert.True(children.Count >= 2, $"draw {draw}: U has {children.Count} children");
            Assert.All(children, c => Assert.True(world.IsObservable(c)));
        }
    }

    [Fact]
    public void Generate_WithEdgeProbabilityTwoThirds_EachPairIsMinusOneZeroOrPlusOneAboutAThirdEach()
    {
        // For an unordered pair {i, j}: whichever variable comes first in the drawn order, the pair's weight
        // is −1, 0 or +1 with probability 1/3 each.
        const int n = 5;
        const int draws = 20_000;
        var options = new SignedDagOptions { Variables = n };
        var random = new SeededRandom(123456);
        var counts = new int[n, n, 3];
        for (var draw = 0; draw < draws; draw++)
        {
            var world = SignedDagGenerator.Generate(options, random);
            for (var i = 0; i < n; i++)
            {
                for (var j = i + 1; j < n; j++)
                {
                    var w = world.Weight(i, j) + world.Weight(j, i);
                    Assert.False(world.Weight(i, j) != 0 && world.Weight(j, i) != 0, "both directions present");
                    counts[i, j, (int)w + 1]++;
                }
            }
        }
        for (var i = 0; i < n; i++)
        {
            for (var j = i + 1; j < n; j++)
            {
                for (var s = 0; s < 3; s++)
                {
                    var share = counts[i, j, s] / (double)draws;
                    Assert.True(Math.Abs(share - 1.0 / 3) < 0.02, $"pair {i},{j} weight {s - 1}: {share:0.000}");
                }
            }
        }
    }

    [Fact]
    public void Generate_EachDirectionOfAPairIsEquallyLikely()
    {
        const int draws = 20_000;
        var random = new SeededRandom(99);
        int forward = 0, backward = 0;
        for (var draw = 0; draw < draws; draw++)
        {
            var world = SignedDagGenerator.Generate(new SignedDagOptions(), random);
            forward += world.HasEdge("A", "E") ? 1 : 0;
            backward += world.HasEdge("E", "A") ? 1 : 0;
        }

        Assert.InRange(forward / (double)draws, 1.0 / 3 - 0.02, 1.0 / 3 + 0.02);
        Assert.InRange(backward / (double)draws, 1.0 / 3 - 0.02, 1.0 / 3 + 0.02);
    }

    [Fact]
    public void Generate_WithEdgeProbabilityZeroGivesNoEdges_AndOneGivesATournament()
    {
        var random = new SeededRandom(1);
        var empty = SignedDagGenerator.Generate(new SignedDagOptions { EdgeProbability = 0 }, random);
        var full = SignedDagGenerator.Generate(new SignedDagOptions { EdgeProbability = 1 }, random);

        Assert.Empty(empty.Edges);
        Assert.Equal(10, full.Edges.Length);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(9)]
    [InlineData(0)]
    [InlineData(-1)]
    public void Validate_RejectsUnsupportedSizes(int n)
    {
        var options = new SignedDagOptions { Variables = n };

        Assert.Contains("between 3 and 8", options.Validate(), StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => SignedDagGenerator.Generate(options, new SeededRandom(1)));
    }

    [Fact]
    public void Validate_RejectsBadOptions()
    {
        Assert.NotNull(new SignedDagOptions { EdgeProbability = 1.5 }.Validate());
        Assert.NotNull(new SignedDagOptions { EdgeProbability = double.NaN }.Validate());
        Assert.NotNull(new SignedDagOptions { NoiseSd = -1 }.Validate());
        Assert.NotNull(new SignedDagOptions { RequiredLinks = [new DirectedLink("D", "Z")] }.Validate());
        Assert.NotNull(new SignedDagOptions { RequiredLinks = [new DirectedLink("A", "A")] }.Validate());
        Assert.NotNull(new SignedDagOptions { RequiredLinks = [DToB], ForbiddenLinks = [DToB] }.Validate());
        Assert.NotNull(new SignedDagOptions { RequiredLinks = [DToB], EdgeProbability = 0 }.Validate());
        Assert.NotNull(new SignedDagOptions { Variables = 3, ForbiddenLinks = [DToB] }.Validate()); // no D with 3 variables
        Assert.Null(new SignedDagOptions { Variables = 8, RequiredLinks = [new DirectedLink("H", "A")] }.Validate());
    }
}
