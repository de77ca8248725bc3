using CausalEval.Core.Tests.Support;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Tests.Worlds;

public class WorldTests
{
    [Fact]
    public void ConfoundedFork_TotalEffectsAddTheDirectAndTheMediatedPath()
    {
        var world = HandWorlds.ConfoundedFork();

        Assert.Equal(1.0, world.TotalEffect("C", "A"));
        Assert.Equal(2.0, world.TotalEffect("C", "B")); // C→B directly (+1) and C→A→B (+1·+1)
        Assert.Equal(1.0, world.TotalEffect("A", "B"));
        Assert.Equal(0.0, world.TotalEffect("A", "C")); // no path against the arrows
        Assert.Equal(0.0, world.TotalEffect("B", "A"));
        Assert.Equal(0.0, world.TotalEffect("B", "C"));
        Assert.Equal(10.0, world.ExpectedUnder(new Intervention("C", 5), "B"));
        Assert.Equal(-5.0, world.ExpectedUnder(new Intervention("A", -5), "B"));
    }

    [Fact]
    public void CancellingChain_TotalEffectOfTheSourceIsExactlyZero()
    {
        var world = HandWorlds.CancellingChain();

        Assert.Equal(0.0, world.TotalEffect("A", "C")); // +1·+1 (A→B→C) plus −1 (A→C)
        Assert.Equal(1.0, world.TotalEffect("A", "B"));
        Assert.Equal(1.0, world.TotalEffect("B", "C"));
        Assert.Equal(0.0, world.ExpectedUnder(new Intervention("A", 5), "C"));
        Assert.Equal(0.0, world.ExpectedUnder(new Intervention("A", -5), "C"));
        // Direct edges are still all present: a zero total effect is not a missing edge.
        Assert.True(world.HasEdge("A", "C"));
        Assert.True(world.HasEdge("A", "B"));
        Assert.True(world.HasEdge("B", "C"));
        Assert.Equal(-1.0, world.Weight(world.IndexOf("A"), world.IndexOf("C")));
    }

    [Fact]
    public void Collider_ParentsAffectTheChildButNotEachOther()
    {
        var world = HandWorlds.Collider();

        Assert.Equal(1.0, world.TotalEffect("A", "C"));
        Assert.Equal(1.0, world.TotalEffect("B", "C"));
        Assert.Equal(0.0, world.TotalEffect("A", "B"));
        Assert.Equal(0.0, world.TotalEffect("B", "A"));
        Assert.Equal(0.0, world.TotalEffect("C", "A"));
    }

    [Fact]
    public void HiddenRoot_TotalEffectsAmongObservablesIgnoreTheConfounder()
    {
        var world = HandWorlds.HiddenRoot();

        Assert.Equal(1.0, world.TotalEffect("A", "B")); // only A→B; the U path is not causal from A
        Assert.Equal(0.0, world.TotalEffect("B", "A"));
        Assert.Equal(1.0, world.TotalEffect("U", "A"));
        Assert.Equal(2.0, world.TotalEffect("U", "B")); // U→B and U→A→B

        Assert.True(world.IsObservable("A"));
        Assert.True(world.IsObservable("B"));
        Assert.False(world.IsObservable("U"));
        Assert.False(world.IsObservable("Z")); // unknown names are not observable either
        Assert.Equal<string>(["A", "B"], world.Observable);
        Assert.Equal<string>(["U"], world.Hidden);
        Assert.Equal<string>(["A", "B", "U"], world.Variables);
        Assert.Equal(3, world.Count);
    }

    [Fact]
    public void Observable_KeepsWorldOrderWhenTheHiddenVariableComesFirst()
    {
        var world = World.Create(["U", "X", "Y"], [new Edge("U", "X", 1), new Edge("U", "Y", -1)], 0.1, ["U"]);

        Assert.Equal<string>(["X", "Y"], world.Observable);
        Assert.Equal(0, world.IndexOf("U"));
        Assert.Equal(-1, world.IndexOf("nope"));
    }

    [Fact]
    public void IndexOf_AnEqualStringThatIsNotTheWorldsOwn_FindsTheSameVariable()
    {
        // Names are looked up by instance first (the world's own strings), then by value (names parsed from an answer).
        var world = World.Create(["U", "X", "Y"], [new Edge("U", "X", 1)], 0.1, ["U"]);

        Assert.Equal(2, world.IndexOf(new string("Y".AsSpan())));
        Assert.True(world.IsObservable(new string("X".AsSpan())));
        Assert.False(world.IsObservable(new string("U".AsSpan())));
        Assert.False(world.IsObservable("x"));
        Assert.Equal(-1, world.IndexOf(""));
    }

    [Fact]
    public void TotalEffect_ByIndexAndByNameAgree_AndUnknownNamesThrow()
    {
        var world = HandWorlds.ConfoundedFork();

        Assert.Equal(world.TotalEffect("C", "B"), world.TotalEffect(world.IndexOf("C"), world.IndexOf("B")));
        Assert.Throws<ArgumentException>(() => world.TotalEffect("C", "Q"));
        Assert.Throws<ArgumentException>(() => world.HasEdge("Q", "B"));
    }

    [Fact]
    public void TotalEffect_MatchesTheMatrixFormulaOnARandomRealWeightedWorld()
    {
        const int n = 6;
        var random = new Random(20240613);
        var names = Enumerable.Range(0, n).Select(i => $"X{i}").ToArray();
        var order = names.OrderBy(_ => random.Next()).ToArray(); // a random causal order
        var edges = new List<Edge>();
        for (var a = 0; a < n; a++)
        {
            for (var b = a + 1; b < n; b++)
            {
                if (random.NextDouble() < 0.7)
                {
                    var weight = Math.Round(random.NextDouble() * 4 - 2, 6); // real weights in [−2, 2]
                    edges.Add(new Edge(order[a], order[b], weight == 0 ? 0.5 : weight));
                }
            }
        }
        Assert.True(edges.Count >= 8, "the random world should be dense enough to have long paths");
        var world = World.Create(names, edges, 0.1);

        // ((I − W)⁻¹ − I) computed independently by Gauss–Jordan elimination.
        var expected = InvertIMinusW(n, edges, names);
        for (var i = 0; i < n; i++)
        {
            for (var t = 0; t < n; t++)
            {
                var formula = expected[i, t] - (i == t ? 1 : 0);
                Assert.True(Math.Abs(formula - world.TotalEffect(i, t)) <= 1e-9,
                    $"TE[{names[i]}→{names[t]}] = {world.TotalEffect(i, t)}, formula gives {formula}");
            }
        }
        // And the path-sum definition for one long pair: sum over directed paths of weight products.
        var first = Array.IndexOf(names, order[0]);
        var last = Array.IndexOf(names, order[^1]);
        Assert.Equal(PathSum(order[0], order[^1], edges), world.TotalEffect(first, last), 9);
    }

    private static double[,] InvertIMinusW(int n, List<Edge> edges, string[] names)
    {
        var a = new double[n, 2 * n];
        for (var i = 0; i < n; i++)
        {
            a[i, i] = 1;
            a[i, n + i] = 1;
        }
        foreach (var e in edges)
        {
            a[Array.IndexOf(names, e.From), Array.IndexOf(names, e.To)] -= e.Weight;
        }
        for (var col = 0; col < n; col++)
        {
            var pivot = col;
            for (var r = col + 1; r < n; r++)
            {
                if (Math.Abs(a[r, col]) > Math.Abs(a[pivot, col]))
                {
                    pivot = r;
                }
            }
            for (var c = 0; c < 2 * n; c++)
            {
                (a[col, c], a[pivot, c]) = (a[pivot, c], a[col, c]);
            }
            var scale = a[col, col];
            for (var c = 0; c < 2 * n; c++)
            {
                a[col, c] /= scale;
            }
            for (var r = 0; r < n; r++)
            {
                if (r != col)
                {
                    var f = a[r, col];
                    for (var c = 0; c < 2 * n; c++)
                    {
                        a[r, c] -= f * a[col, c];
                    }
                }
            }
        }
        var inverse = new double[n, n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                inverse[i, j] = a[i, n + j];
            }
        }
        return inverse;
    }

    private static double PathSum(string from, string to, List<Edge> edges)
        => from == to ? 1 : edges.Where(e => e.From == from).Sum(e => e.Weight * PathSum(e.To, to, edges));

    [Fact]
    public void ZeroWeightEdgesAreDroppedAndDoNotMakeCycles()
    {
        var world = World.Create(["A", "B"], [new Edge("A", "B", 1), new Edge("B", "A", 0)], 0.1);

        Assert.Single(world.Edges);
        Assert.False(world.HasEdge("B", "A"));
        Assert.Equal(1.0, world.TotalEffect("A", "B"));
    }

    [Fact]
    public void WithoutEdge_RemovesOnlyThatEdgeAndLeavesTheOriginalUntouched()
    {
        var world = HandWorlds.ConfoundedFork();

        var cut = world.WithoutEdge("A", "B");

        Assert.False(cut.HasEdge("A", "B"));
        Assert.True(cut.HasEdge("C", "A"));
        Assert.True(cut.HasEdge("C", "B"));
        Assert.Equal(2, cut.Edges.Length);
        Assert.Equal(1.0, cut.TotalEffect("C", "B")); // only the direct path is left
        Assert.Equal(0.0, cut.TotalEffect("A", "B"));
        Assert.Equal(world.NoiseSd, cut.NoiseSd);
        // The original is immutable.
        Assert.True(world.HasEdge("A", "B"));
        Assert.Equal(2.0, world.TotalEffect("C", "B"));
    }

    [Fact]
    public void WithoutEdge_KeepsHiddenVariablesHidden()
    {
        var cut = HandWorlds.HiddenRoot().WithoutEdge("A", "B");

        Assert.Equal<string>(["U"], cut.Hidden);
        Assert.Equal<string>(["A", "B"], cut.Observable);
        Assert.Equal(0.0, cut.TotalEffect("A", "B"));
        Assert.Equal(1.0, cut.TotalEffect("U", "B"));
    }

    [Fact]
    public void WithoutEdge_OfAMissingEdgeChangesNothing()
    {
        var world = HandWorlds.Collider();

        var same = world.WithoutEdge("A", "B");

        Assert.Equal<Edge>(world.Edges, same.Edges);
        Assert.Equal(1.0, same.TotalEffect("A", "C"));
    }
}
