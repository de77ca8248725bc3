using CausalEval.Core.Inference;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Tests.Inference;

public class DagFamilyTests
{
    [Fact]
    public void For_FiveVariables_Has3068281SignedAnd29281UnsignedDags()
    {
        var family = DagFamily.For(5);

        Assert.Equal(3_068_281, family.Count);
        var unsigned = new HashSet<int>();
        for (var d = 0; d < family.Count; d++)
        {
            var mask = 0;
            var adjacency = family.Adjacency(d);
            for (var i = 0; i < adjacency.Length; i++)
            {
                mask |= adjacency[i] != 0 ? 1 << i : 0;
            }
            unsigned.Add(mask);
        }
        Assert.Equal(29_281, unsigned.Count);
    }

    [Theory]
    [InlineData(3, 0.6666666666666666)]
    [InlineData(4, 0.25)]
    [InlineData(5, 0.6666666666666666)]
    [InlineData(5, 1.0)]
    [InlineData(4, 0.0)]
    public void LogPriorTable_SumsToOneOverTheFamily(int n, double p)
    {
        var family = DagFamily.For(n);
        var table = family.LogPriorTable(p);

        var total = 0.0;
        for (var d = 0; d < family.Count; d++)
        {
            total += Math.Exp(table[family.PriorIndex(d)]);
        }

        Assert.Equal(1, total, 10); // 3·10⁶ terms summed in order
    }

    [Fact]
    public void For_FourVariables_TotalEffectsAndOrderCountsAgreeWithWorldAndBruteForce()
    {
        var family = DagFamily.For(4);
        var names = BruteForceObserver.Names(4);
        var orders = Permutations4();
        for (var d = 0; d < family.Count; d += 7)
        {
            var adjacency = family.Adjacency(d);
            var edges = new List<Edge>();
            for (var i = 0; i < 16; i++)
            {
                if (adjacency[i] != 0)
                {
                    edges.Add(new Edge(names[i / 4], names[i % 4], adjacency[i]));
                }
            }
            var world = World.Create(names, edges);
            for (var i = 0; i < 4; i++)
            {
                for (var t = 0; t < 4; t++)
                {
                    Assert.Equal(world.TotalEffect(i, t), family.Effects[d * 16 + i * 4 + t]);
                }
            }
            var consistent = orders.Count(o => edges.All(e => Array.IndexOf(o, e.From[0] - 'A') < Array.IndexOf(o, e.To[0] - 'A')));
            Assert.Equal(consistent, family.OrdersOf(d));
            Assert.Equal(edges.Count, family.EdgesOf(d));
        }
    }

    private static List<int[]> Permutations4()
    {
        var list = new List<int[]>();
        for (var a = 0; a < 4; a++)
        {
            for (var b = 0; b < 4; b++)
            {
                for (var c = 0; c < 4; c++)
                {
                    var d = 6 - a - b - c;
                    if (a != b && a != c && b != c && d != a && d != b && d != c)
                    {
                        list.Add([a, b, c, d]);
                    }
                }
            }
        }
        return list;
    }
}
