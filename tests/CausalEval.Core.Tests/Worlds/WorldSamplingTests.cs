using CausalEval.Core.Randomness;
using CausalEval.Core.Tests.Support;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Tests.Worlds;

public class WorldSamplingTests
{
    [Fact]
    public void WithoutNoise_AnInterventionInAChainGivesExactDownstreamValues()
    {
        // A →(2) B →(−3) C, and D unconnected.
        var world = World.Create(["A", "B", "C", "D"], [new Edge("A", "B", 2), new Edge("B", "C", -3)], noiseSd: 0);
        var values = new double[4];

        world.Sample(new SeededRandom(1), world.IndexOf("A"), 5, values);
        Assert.Equal([5.0, 10.0, -30.0, 0.0], values);

        world.Sample(new SeededRandom(1), world.IndexOf("B"), -5, values);
        Assert.Equal([0.0, -5.0, 15.0, 0.0], values); // A is cut off from B; B's child follows B
    }

    [Fact]
    public void RandomWorlds_EverySampleIsTheStructuralEquationsSolvedInPasses_BitForBit()
    {
        // Independent of the topological order: draw the noise in variable order as Sample does, then apply
        // x_j = ε_j + Σ_i w_ij·x_i (parents ascending) to every variable n times over; a DAG's values are then exact.
        var generator = new SeededRandom(2024);
        for (var trial = 0; trial < 200; trial++)
        {
            var n = 2 + generator.NextInt(7);
            var names = Enumerable.Range(0, n).Select(i => $"V{i}").ToArray();
            var rank = Enumerable.Range(0, n).ToArray();
            generator.Shuffle<int>(rank); // a random causal order, unrelated to the variables' order
            var edges = new List<Edge>();
            for (var i = 0; i < n; i++)
            {
                for (var j = 0; j < n; j++)
                {
                    if (rank[i] < rank[j] && generator.NextInt(2) == 0)
                    {
                        edges.Add(new Edge(names[i], names[j], generator.NextInt(2) == 0 ? -1 - generator.NextInt(3) : 1 + generator.NextInt(3)));
                    }
                }
            }
            var world = World.Create(names, edges, noiseSd: 0.1 + generator.NextDouble());
            var intervened = generator.NextInt(n + 1) - 1;
            var value = intervened < 0 ? 0 : 5.0;
            var seed = (ulong)trial;

            var sampled = new double[n];
            world.Sample(new SeededRandom(seed), intervened, value, sampled);

            var random = new SeededRandom(seed);
            var noise = Enumerable.Range(0, n).Select(_ => random.NextGaussian() * world.NoiseSd).ToArray();
            var solved = new double[n];
            for (var pass = 0; pass < n; pass++)
            {
                for (var j = 0; j < n; j++)
                {
                    if (j == intervened)
                    {
                        solved[j] = value;
                        continue;
                    }
                    var x = noise[j];
                    for (var i = 0; i < n; i++)
                    {
                        if (world.Weight(i, j) != 0)
                        {
                            x += world.Weight(i, j) * solved[i];
                        }
                    }
                    solved[j] = x;
                }
            }

            Assert.Equal(solved.Select(BitConverter.DoubleToInt64Bits), sampled.Select(BitConverter.DoubleToInt64Bits));
        }
    }

    [Fact]
    public void WithoutNoise_TheCancellingChainGivesExactlyZeroDownstream()
    {
        var world = HandWorlds.CancellingChain(noiseSd: 0);
        var values = new double[3];

        world.Sample(new SeededRandom(3), world.IndexOf("A"), 5, values);

        Assert.Equal([5.0, 5.0, 0.0], values);
    }

    [Fact]
    public void WithoutNoise_NoInterventionGivesAllZeros()
    {
        var world = HandWorlds.ConfoundedFork(noiseSd: 0);
        var values = new double[] { 9, 9, 9 };

        world.Sample(new SeededRandom(3), -1, 123, values);

        Assert.Equal([0.0, 0.0, 0.0], values);
    }

    [Theory]
    [InlineData("C", 5.0, "B")]  // TE 2 → mean 10
    [InlineData("C", -5.0, "A")] // TE 1 → mean −5
    [InlineData("A", 5.0, "B")]  // TE 1 → mean 5 (the confounder C is cut off from nothing; A is set)
    [InlineData("A", -5.0, "C")] // TE 0 → mean 0
    public void WithNoise_SampleMeanUnderAnInterventionIsValueTimesTotalEffect(string variable, double value, string target)
    {
        var world = HandWorlds.ConfoundedFork(noiseSd: 1.0);
        var random = new SeededRandom(0xC0FFEE);
        var values = new double[world.Count];
        var x = world.IndexOf(variable);
        var t = world.IndexOf(target);
        const int draws = 20_000;
        double sum = 0, sumSq = 0;
        for (var d = 0; d < draws; d++)
        {
            world.Sample(random, x, value, values);
            Assert.Equal(value, values[x]); // the intervened variable is exactly v, every time
            sum += values[t];
            sumSq += values[t] * values[t];
        }
        var mean = sum / draws;
        var sd = Math.Sqrt((sumSq - draws * mean * mean) / (draws - 1));
        var se = sd / Math.Sqrt(draws);
        var expected = value * world.TotalEffect(variable, target);
        Assert.True(sd > 0.5, $"noise should show (sd {sd})");
        Assert.True(Math.Abs(mean - expected) <= 4 * se, $"mean {mean} vs v·TE {expected} (SE {se})");
    }

    [Fact]
    public void WithNoise_ObservationalRegressionOverstatesTheEffectUnderAHiddenConfounder()
    {
        // A = U + εA, B = U + A + εB, all noise sd 1 → slope of B on A = Cov(A,B)/Var(A) = 3/2, while TE[A→B] = 1.
        var world = HandWorlds.HiddenRoot(noiseSd: 1.0);
        var random = new SeededRandom(99);
        var values = new double[3];
        double sa = 0, sb = 0, saa = 0, sab = 0;
        const int draws = 20_000;
        for (var d = 0; d < draws; d++)
        {
            world.Sample(random, -1, 0, values);
            sa += values[0];
            sb += values[1];
            saa += values[0] * values[0];
            sab += values[0] * values[1];
        }
        var slope = (sab - sa * sb / draws) / (saa - sa * sa / draws);

        Assert.InRange(slope, 1.45, 1.55);
        Assert.Equal(1.0, world.TotalEffect("A", "B"));
    }

    [Fact]
    public void SameSeed_GivesTheSameSamples_AndADifferentSeedDoesNot()
    {
        var world = HandWorlds.FiveWithHidden(noiseSd: 0.5);
        var first = Draw(world, 42);
        var again = Draw(world, 42);
        var other = Draw(world, 43);

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    private static double[] Draw(World world, ulong seed)
    {
        var random = new SeededRandom(seed);
        var all = new List<double>();
        var values = new double[world.Count];
        for (var i = 0; i < 50; i++)
        {
            world.Sample(random, i % world.Count, i % 2 == 0 ? 5 : -5, values);
            all.AddRange(values);
        }
        return [.. all];
    }

    [Fact]
    public void SharedNoise_TheSameSeedGivesTheSameNoiseWhateverTheIntervention()
    {
        // One noise draw per variable per sample, so E under do(A=5) and do(C=5) share the draw for D:
        // D = −C + εD in both cases, and with C fixed to the same value the D values agree.
        var world = HandWorlds.FiveWithHidden(noiseSd: 0.3);
        var a = new double[world.Count];
        var b = new double[world.Count];
        world.Sample(new SeededRandom(5), world.IndexOf("C"), 5, a);
        world.Sample(new SeededRandom(5), world.IndexOf("C"), 5, b);
        Assert.Equal(a, b);

        var observational = new double[world.Count];
        var intervened = new double[world.Count];
        world.Sample(new SeededRandom(11), -1, 0, observational);
        world.Sample(new SeededRandom(11), world.IndexOf("E"), 5, intervened);
        // E is a sink: intervening on it leaves every other variable's value unchanged.
        for (var i = 0; i < world.Count; i++)
        {
            if (i != world.IndexOf("E"))
            {
                Assert.Equal(observational[i], intervened[i]);
            }
        }
    }

    [Fact]
    public void Sample_RejectsAShortBuffer()
    {
        var world = HandWorlds.Collider();
        Assert.Throws<ArgumentException>(() => world.Sample(new SeededRandom(1), 0, 5, new double[2]));
    }
}
