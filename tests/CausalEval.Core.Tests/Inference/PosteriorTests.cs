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
}
