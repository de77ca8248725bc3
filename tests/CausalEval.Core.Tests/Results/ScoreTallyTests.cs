using CausalEval.Core.Episodes;
using CausalEval.Core.Running;
using CausalEval.Core.Scoring;
using CausalEval.Core.Results;

namespace CausalEval.Core.Tests.Results;

public class ScoreTallyTests
{
    private static TrialSummary Trial(Scores? scores, int decisions = 4, long input = 0, double cost = 0) =>
        new("t", "task", "m", null, 1, scores, decisions, new Usage(input, 1), cost, scores is null);

    private static readonly TrialSummary[] HandWorked =
    [
        Trial(new Scores { ExploitValue = 10, OptimalValue = 10, Normalized = 1, OptimalAction = 1, Regret = 0, ExploreCoverage = 1, SubsetAdherence = 0.5 }, input: 100, cost: 0.5),
        // No valid exploit action: value 0, regret = the optimal value; one invalid answer, one unreadable.
        Trial(new Scores { OptimalValue = 8, OptimalAction = 0, ExploreCoverage = 0.5, InvalidActions = 1, ParseFailures = 1, StructureF1 = 0.25, Shd = 3 }),
        Trial(null, decisions: 0, input: 7, cost: 0.25), // ended in an error
    ];

    [Fact]
    public void Add_counts_errors_apart_and_a_missing_exploit_as_zero_with_regret_the_optimal_value()
    {
        var tally = new ScoreTally();
        foreach (var trial in HandWorked)
        {
            tally.Add(trial);
        }

        Assert.Equal((3L, 2L, 1L), (tally.Trials, tally.Scored, tally.Errors));
        Assert.Equal(0.5, tally.Normalized);          // (1 + 0) / 2
        Assert.Equal(0.5, tally.OptimalActionRate);
        Assert.Equal(4.0, tally.Regret);              // (0 + 8) / 2
        Assert.Equal(0.75, tally.Coverage.Value);
        Assert.Equal(0.5, tally.SubsetAdherence.Value); // one trial had a cued subset
        Assert.Equal((0.25, 3.0), (tally.StructureF1.Value, tally.Shd.Value));
        Assert.Equal(0.25, tally.InvalidRate);        // 2 bad answers of 8 decisions (the error's are not counted)
        Assert.Equal((107L, 3L, 0.75), (tally.InputTokens, tally.OutputTokens, tally.Cost));
    }

    [Fact]
    public void Adding_tallies_equals_adding_their_trials()
    {
        var all = new ScoreTally();
        var parts = new[] { new ScoreTally(), new ScoreTally() };
        for (var i = 0; i < HandWorked.Length; i++)
        {
            all.Add(HandWorked[i]);
            parts[i % 2].Add(HandWorked[i]);
        }
        var merged = new ScoreTally();
        merged.Add(parts[0]);
        merged.Add(parts[1]);

        Assert.Equal(LeaderboardRow.From("m", null, null, all), LeaderboardRow.From("m", null, null, merged));
        Assert.Equal((all.Shd, all.Cost, all.InputTokens), (merged.Shd, merged.Cost, merged.InputTokens));
    }

    [Fact]
    public void An_empty_tally_has_no_means_rather_than_zeros()
    {
        var tally = new ScoreTally();

        Assert.Null(tally.Normalized);
        Assert.Null(tally.Regret);
        Assert.Null(tally.Coverage.Value);
        Assert.Null(tally.InvalidRate);
    }
}
