using System.Collections.Immutable;
using CausalEval.Core.Episodes;
using CausalEval.Core.Inference;
using CausalEval.Core.Randomness;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Tests.Inference;

public class IdealObserverTests
{
    /// <summary>Evidence drawn from a world of the family: observational samples and interventions, rounded as shown.</summary>
    internal static ImmutableArray<EvidenceSample> Draw(int n, bool hidden, double sigma, ulong seed, int observational, int interventions)
    {
        var random = new SeededRandom(seed);
        var world = SignedDagGenerator.Generate(new SignedDagOptions { Variables = n, NoiseSd = sigma, HiddenConfounder = hidden }, random);
        var samples = ImmutableArray.CreateBuilder<EvidenceSample>();
        var values = new double[world.Count];
        for (var k = 0; k < observational + interventions; k++)
        {
            Intervention? action = k < observational ? null : new Intervention(SignedDagOptions.NameOf(k % n), k % 2 == 0 ? 5 : -5);
            world.Sample(random, action is { } a ? world.IndexOf(a.Variable) : -1, action?.Value ?? 0, values);
            samples.Add(new EvidenceSample(action, [.. world.Observable.Select(v => EpisodeEngine.RoundForDisplay(values[world.IndexOf(v)]))]));
        }
        return samples.ToImmutable();
    }

    private static ObserverModel Model(int n, bool hidden, double p = 2.0 / 3.0, double sigma = 0.1)
        => new(BruteForceObserver.Names(n), hidden, p, sigma);

    private static void AssertMatches(BruteForceObserver brute, Posterior posterior, int n)
    {
        var names = BruteForceObserver.Names(n);
        Assert.Equal(brute.LogEvidence, posterior.LogEvidence, 8);
        foreach (var cause in names)
        {
            foreach (var effect in names.Where(e => e != cause))
            {
                Assert.Equal(brute.ExpectedEffect(cause, effect), posterior.ExpectedEffect(names.IndexOf(cause), names.IndexOf(effect)), 9);
            }
            Assert.Equal(brute.InformationBits(cause), posterior.Information(cause, 5), 9);
            Assert.Equal(brute.InformationBits(cause), posterior.Information(cause, -5), 9);
        }
        Assert.Equal(brute.MaxPosterior, posterior.Top(1)[0].Probability, 9);
        Assert.True(posterior.NeglectedMass < IdealObserver.NeglectTolerance);
    }

    [Theory]
    [InlineData(3, 0.1, 1UL, 3, 3)]
    [InlineData(3, 1.0, 2UL, 4, 2)]
    [InlineData(4, 0.1, 3UL, 2, 4)]
    [InlineData(4, 1.0, 4UL, 5, 0)]
    [InlineData(4, 0.5, 5UL, 0, 4)]
    public void Infer_WithoutHiddenRoot_MatchesBruteForceOverTheGenerator(int n, double sigma, ulong seed, int observational, int interventions)
    {
        var samples = Draw(n, hidden: false, sigma, seed, observational, interventions);
        var brute = new BruteForceObserver(n, hidden: false, 2.0 / 3.0, sigma, samples);

        var posterior = IdealObserver.Infer(Model(n, hidden: false, sigma: sigma), samples);

        Assert.Equal(DagFamily.For(n).Count, brute.Worlds);
        AssertMatches(brute, posterior, n);
    }

    [Theory]
    [InlineData(3, 0.1, 11UL, 4, 2)]
    [InlineData(3, 1.0, 12UL, 3, 3)]
    [InlineData(4, 0.1, 13UL, 3, 0)]
    [InlineData(4, 1.0, 14UL, 1, 2)]
    public void Infer_WithHiddenRoot_MatchesBruteForceOverTheGenerator(int n, double sigma, ulong seed, int observational, int interventions)
    {
        var samples = Draw(n, hidden: true, sigma, seed, observational, interventions);
        var brute = new BruteForceObserver(n, hidden: true, 2.0 / 3.0, sigma, samples);

        var posterior = IdealObserver.Infer(Model(n, hidden: true, sigma: sigma), samples, threads: 2);

        AssertMatches(brute, posterior, n);
    }

    [Theory]
    [InlineData(0.3, false)]
    [InlineData(1.0, false)]
    [InlineData(0.0, true)]
    public void Infer_OtherEdgeProbabilities_MatchBruteForce(double p, bool hidden)
    {
        var samples = Draw(3, hidden, 0.5, 21, 2, 2);
        var brute = new BruteForceObserver(3, hidden, p, 0.5, samples);

        var posterior = IdealObserver.Infer(Model(3, hidden, p, 0.5), samples);

        AssertMatches(brute, posterior, 3);
    }

    [Fact]
    public void Update_OneSampleAtATime_EqualsInferringFromAllSamples()
    {
        var samples = Draw(5, hidden: false, 0.1, 31, 0, 5);
        var model = Model(5, hidden: false);
        var stepwise = IdealObserver.Infer(model, []);
        foreach (var sample in samples)
        {
            stepwise = stepwise.Update(sample);
        }

        var direct = IdealObserver.Infer(model, samples);

        Assert.Equal(direct.LogEvidence, stepwise.LogEvidence, 9);
        for (var x = 0; x < 5; x++)
        {
            for (var t = 0; t < 5; t++)
            {
                Assert.Equal(direct.ExpectedEffect(x, t), stepwise.ExpectedEffect(x, t), 12);
            }
            Assert.Equal(direct.Information(model.Variables[x], 5), stepwise.Information(model.Variables[x], 5), 12);
        }
        Assert.True(stepwise.NeglectedMass < IdealObserver.NeglectTolerance);
    }

    [Theory]
    [InlineData(4, 0.55, 5)]
    [InlineData(5, 0.6, 3)]
    [InlineData(5, 0.6, 1)]
    [InlineData(3, 1.0, 5)] // every DAG without all three edges has no prior mass: the prior's own path
    public void PriorTop_BeforeAndAfterThePriorIsInferred_EqualsTheInferredPriorsTopBitForBit(int n, double p, int count)
    {
        // Names of their own and edge probabilities no other test uses, so the first call finds no prior cached.
        var model = new ObserverModel([.. Enumerable.Range(0, n).Select(i => $"v{i}")], HiddenConfounder: false, p, 0.1);

        var streamed = IdealObserver.PriorTop(model, count);
        var inferred = IdealObserver.Infer(model, []).Top(count);
        var cached = IdealObserver.PriorTop(model, count);

        Assert.Equal(count, streamed.Length);
        static string Edges(WeightedHypothesis h) => string.Join(" ", h.Edges.Select(e => $"{e.From}>{e.To}{e.Weight:+0;-0}"));
        foreach (var top in new[] { streamed, cached })
        {
            Assert.Equal(inferred.Select(h => h.Probability), top.Select(h => h.Probability)); // exact doubles
            Assert.Equal(inferred.Select(Edges), top.Select(Edges));
        }
    }

    [Fact]
    public void Infer_ThreadCount_DoesNotChangeTheResult()
    {
        var samples = Draw(5, hidden: false, 0.1, 41, 3, 1);
        var one = IdealObserver.Infer(Model(5, false), samples, threads: 1);
        var two = IdealObserver.Infer(Model(5, false), samples, threads: 2);

        Assert.Equal(one.LogEvidence, two.LogEvidence);
        Assert.Equal(one.ExpectedEffect(0, 4), two.ExpectedEffect(0, 4));
        Assert.Equal(one.Information("B", 5), two.Information("B", 5));
    }

    [Fact]
    public void Information_ThreeVariablesEveryPairLinked_IsHandCounted()
    {
        // p = 1: 6 orders × 8 signings, each of the 48 DAGs 1/48. do(A)'s outcome (TE[A→B], TE[A→C]): 8 outcomes with
        // one DAG each, 4 with six ((±1, 0) and (0, ±1): A first with cancelling paths, or A second) and (0, 0) with 16
        // (A last). H = 8·(1/48)·log2 48 + 4·(1/8)·3 + (1/3)·log2 3.
        var expected = 8.0 / 48 * Math.Log2(48) + 4 * (1.0 / 8) * 3 + (1.0 / 3) * Math.Log2(3);

        var prior = IdealObserver.Infer(Model(3, hidden: false, p: 1), []);

        Assert.Equal(2.959148, expected, 6);
        Assert.Equal(expected, prior.Information("A", 5), 12);
        Assert.Equal(48, prior.Support);
        Assert.Equal(0, prior.LogEvidence, 12);
    }

    [Fact]
    public void LogEvidence_NoEdgesPossible_IsTheProductOfNormalDensities()
    {
        // p = 0: only the empty DAG. x = (0.1, −0.2, 0.3), σ = 0.1: Σ_j [−½ ln(2π·0.01) − x_j²/0.02] = 3·1.383630 − (0.5 + 2 + 4.5) = −2.849060.
        var sample = new EvidenceSample(null, [0.1, -0.2, 0.3]);

        var posterior = IdealObserver.Infer(Model(3, hidden: false, p: 0), [sample]);

        Assert.Equal(-0.5 * 3 * Math.Log(2 * Math.PI * 0.01) - 7, posterior.LogEvidence, 12);
        Assert.Equal(-2.849060, posterior.LogEvidence, 5);
        Assert.Equal(1, posterior.Support);
    }

    [Fact]
    public void LogEvidence_HiddenRootAndASampleAtZero_IsHandWorked()
    {
        // p = 0: no edges between observables; the root's weights are then drawn with 2/3, so its 20 vectors with ≥ 2
        // nonzero entries are equally likely: 12 with |u|² = 2, 8 with |u|² = 3. At x = 0 the density is
        // (2πσ²)^(−3/2)·(1 + |u|²)^(−1/2), so the evidence is (2πσ²)^(−3/2)·(12/20·3^(−1/2) + 8/20·4^(−1/2)).
        var expected = -1.5 * Math.Log(2 * Math.PI * 0.01) + Math.Log(0.6 / Math.Sqrt(3) + 0.4 / 2);

        var posterior = IdealObserver.Infer(Model(3, hidden: true, p: 0), [new EvidenceSample(null, [0, 0, 0])]);

        Assert.Equal(3.546554, expected, 5);
        Assert.Equal(expected, posterior.LogEvidence, 12);
        Assert.Equal(20, RootWeights.Count(3));
    }

    [Fact]
    public void Exploit_AfterADecisiveExperiment_ChoosesTheOnlyConsistentWorld()
    {
        // p = 1 on A, B, C. do(A = 5) shows B = 5, C = 10: only A→B (+1), B→C (+1), A→C (+1) gives TE[A→C] = 2 (the
        // order A, C, B has TE[A→C] = ±1). So the Bayes exploit for C is do(A = 5) at 10, and nothing is left to learn.
        var posterior = IdealObserver.Infer(Model(3, hidden: false, p: 1), [new EvidenceSample(new Intervention("A", 5), [5, 5, 10])]);

        var solution = posterior.Exploit("C", ["A", "B"], [5, -5]);

        var best = Assert.Single(solution.Optimal);
        Assert.Equal(new Intervention("A", 5), best.Action);
        Assert.Equal(10, best.Expected, 9);
        Assert.Equal(1, posterior.Top(1)[0].Probability, 9);
        Assert.Equal(["A->B", "A->C", "B->C"], posterior.Top(1)[0].Edges.Select(e => $"{e.From}->{e.To}").Order());
        Assert.All(posterior.Experiments(["A", "B", "C"], [5, -5]).All, e => Assert.Equal(0, e.Bits, 9));
    }

    [Fact]
    public void LogAdd_IsTheFormulaBitForBit_AlsoWhereItLeavesTheExpOut()
    {
        static double Formula(double a, double b)
            => double.IsNegativeInfinity(a) ? b : double.IsNegativeInfinity(b) ? a
                : a > b ? a + Math.Log(1 + Math.Exp(b - a)) : b + Math.Log(1 + Math.Exp(a - b));
        var random = new SeededRandom(41);
        var pairs = new List<(double, double)>
        {
            (0.0, -0.0), (-0.0, -0.0), (-0.0, -40.0), (-0.0, -41.0), (-5.0, -5.0), (1e300, -1e300), (-1e300, -1e300 - 1e285),
            (double.NegativeInfinity, -3.0), (-3.0, double.NegativeInfinity), (double.NegativeInfinity, double.NegativeInfinity),
            (2.0, 2.0 - IdealObserver.LogAddNegligible), (2.0, Math.BitDecrement(2.0 - IdealObserver.LogAddNegligible)),
        };
        for (var i = 0; i < 20_000; i++)
        {
            var a = (random.NextDouble() - 0.5) * 2_000;
            // differences around the cut-off (36 to 44), well below it, and small
            var d = (i % 3) switch { 0 => 36 + 8 * random.NextDouble(), 1 => 40 + 800 * random.NextDouble(), _ => 36 * random.NextDouble() };
            pairs.Add((a, a - d));
            pairs.Add((a - d, a));
        }
        foreach (var (a, b) in pairs)
        {
            Assert.Equal(BitConverter.DoubleToInt64Bits(Formula(a, b)), BitConverter.DoubleToInt64Bits(IdealObserver.LogAdd(a, b)));
        }
    }

    [Fact]
    public void Hypotheses_FiveVariables_CountSignedDagsAndRootVectors()
    {
        Assert.Equal(3_068_281, Model(5, hidden: false).Hypotheses);
        Assert.Equal(232, RootWeights.Count(5));
        Assert.Equal(711_841_192, Model(5, hidden: true).Hypotheses);
    }
}
