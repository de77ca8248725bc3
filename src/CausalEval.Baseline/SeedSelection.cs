namespace CausalEval.Baseline;

/// <summary>
/// What a seed study maximises, on validation splits only. The imitation baseline is a test of generalisation, so its
/// score is the mean validation normalized score of the two generalisation tasks; the observational control is judged
/// on observational evidence, so its score is the validation normalized score of passive-exploit-observational.
/// </summary>
internal static class SeedSelection
{
    public const string HeldoutLinkTask = "explore-exploit-heldout-link";
    public const string HeldoutSubsetTask = "explore-exploit-heldout-subset";
    public const string ObservationalTask = "passive-exploit-observational";

    public static IReadOnlyList<string> Tasks(DataCondition condition) => condition == DataCondition.Interventional
        ? [HeldoutLinkTask, HeldoutSubsetTask]
        : [ObservationalTask];

    public static double Score(IReadOnlyList<TaskScores> validation, DataCondition condition)
    {
        var scored = Tasks(condition).Select(t => validation.FirstOrDefault(s => s.Task == t)).OfType<TaskScores>().ToList();
        return scored.Count > 0 ? Math.Round(scored.Average(s => s.Normalized), 4) : double.NaN;
    }

    public static string Description(DataCondition condition) =>
        $"mean validation normalized score of {string.Join(" and ", Tasks(condition))}";
}
