using CausalEval.Core.Episodes;
using CausalEval.Core.Inference;

namespace CausalEval.Core.Tests.Inference;

public class PosteriorTests
{
    [Theory]
    [InlineData(11UL, 0, 1)]
    [InlineData(12UL, 2, 3)]
    public void The_exploit_from_the_targets_column_equals_the_full_summarys_exploit_bit_for_bit(ulong seed, int observational, int interventions)
    {
        var samples = IdealObserverTests.Draw(5, hidden: false, 0.1, seed, observational, interventions);
        var model = new ObserverModel(BruteForceObserver.Names(5), false, ObserverModel.DefaultEdgeProbability, 0.1);
        var columnOnly = IdealObserver.Infer(model, samples);
        var summarised = IdealObserver.Infer(model, samples);
        var summary = summarised.Summary();
        double[] values = [5, -5];

        foreach (var target in model.Variables)
        {
            var fromColumn = columnOnly.Exploit(target, model.Variables, values);
            var fromSummary = summary.Exploit(target, model.Variables, values);

            Assert.Equal(fromSummary.Actions.Select(a => (a.Action, a.Expected)), fromColumn.Actions.Select(a => (a.Action, a.Expected)));
            Assert.Equal(fromSummary.Optimal.AsEnumerable(), fromColumn.Optimal.AsEnumerable());
            Assert.Equal(fromSummary.Actions.AsEnumerable(), summarised.Exploit(target, model.Variables, values).Actions.AsEnumerable());
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Updates_and_information_from_the_gathered_rows_equal_the_family_arrays_computation_bit_for_bit(bool sameExperiment)
    {
        // Experiments on every variable drop many DAGs per update (the rows handed on are compacted); the same experiment
        // again (do(A) each time, as the bench's model answers) drops few, which stay in place at probability 0.
        var drawn = IdealObserverTests.Draw(5, hidden: false, 0.1, sameExperiment ? 22UL : 21UL, 0, 16);
        var samples = sameExperiment ? [drawn[0], drawn[5], drawn[10], drawn[15]] : drawn[..5];
        var model = new ObserverModel(BruteForceObserver.Names(5), false, ObserverModel.DefaultEdgeProbability, 0.1);
        var family = DagFamily.For(5);
        var posterior = IdealObserver.Infer(model, samples[..1]);
        Assert.Equal(ReferenceBits(family, posterior), posterior.InformationTable().Bits.AsEnumerable());
        var dropped = false;
        foreach (var sample in samples[1..])
        {
            var expected = ReferenceUpdate(family, model, posterior, sample);
            var updated = posterior.Update(sample);

            Assert.Equal(expected, updated.Kept());
            Assert.Equal(ReferenceBits(family, updated), updated.InformationTable().Bits.AsEnumerable());
            dropped |= updated.Support < posterior.Support && (updated.Stored == posterior.Stored) == sameExperiment;
            posterior = updated;
        }
        Assert.True(dropped, "the case exercises an update that drops DAGs in place (the same experiment) or compacts");
    }

    [Theory]
    [InlineData(3, 31UL)]
    [InlineData(4, 32UL)]
    public void Updates_and_information_on_smaller_families_equal_the_family_arrays_computation_bit_for_bit(int n, ulong seed)
    {
        // The general loops (the 5-variable family has its own unrolled one).
        var samples = IdealObserverTests.Draw(n, hidden: false, 0.1, seed, 1, 4);
        var model = new ObserverModel(BruteForceObserver.Names(n), false, ObserverModel.DefaultEdgeProbability, 0.1);
        var family = DagFamily.For(n);
        var posterior = IdealObserver.Infer(model, samples[..1]);
        Assert.Equal(ReferenceBits(family, posterior), posterior.InformationTable().Bits.AsEnumerable());
        foreach (var sample in samples[1..])
        {
            var expected = ReferenceUpdate(family, model, posterior, sample);
            var updated = posterior.Update(sample);

            Assert.Equal(expected, updated.Kept());
            Assert.Equal(ReferenceBits(family, updated), updated.InformationTable().Bits.AsEnumerable());
            posterior = updated;
        }
    }

    /// <summary>The update as computed from the family's per-DAG arrays (the engine's arithmetic, in the same order).</summary>
    private static List<(int Dag, double Probability)> ReferenceUpdate(DagFamily family, ObserverModel model, Posterior posterior, EvidenceSample sample)
    {
        var n = family.Variables;
        var table = IdealObserver.LocalTerms(family, [Observation.From(model, sample)], model.NoiseSd);
        var weights = posterior.Kept().Select(k =>
        {
            var lw = Math.Log(k.Probability) + posterior.LogEvidence;
            for (var j = 0; j < n; j++)
            {
                lw += table[j * family.CodesPerNode + family.Codes[k.Dag * n + j]];
            }
            return (k.Dag, Weight: lw);
        }).ToList();
        var max = weights.Max(w => w.Weight);
        var kept = weights.Where(w => w.Weight >= max - IdealObserver.KeepMargin).Select(w => (w.Dag, Weight: Math.Exp(w.Weight - max))).ToList();
        var sum = 0.0;
        foreach (var (_, w) in kept)
        {
            sum += w;
        }
        return [.. kept.Select(k => (k.Dag, k.Weight / sum))];
    }

    /// <summary>The information of an experiment on each variable from the family's outcome ids (the engine's arithmetic).</summary>
    private static IEnumerable<double> ReferenceBits(DagFamily family, Posterior posterior)
    {
        var n = family.Variables;
        var buckets = Enumerable.Range(0, n).Select(x => new double[family.OutcomeCounts[x]]).ToArray();
        foreach (var (dag, p) in posterior.Kept())
        {
            for (var x = 0; x < n; x++)
            {
                buckets[x][family.OutcomeIds[dag * n + x]] += p;
            }
        }
        return buckets.Select(b =>
        {
            var total = 0.0;
            foreach (var q in b)
            {
                total += q;
            }
            var entropy = 0.0;
            foreach (var mass in b.Where(m => m > 0))
            {
                entropy -= mass / total * Math.Log2(mass / total);
            }
            return entropy + 0.0;
        }).ToList();
    }
}
