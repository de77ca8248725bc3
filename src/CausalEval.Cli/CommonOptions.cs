using System.CommandLine;

namespace CausalEval.Cli;

internal static class CommonOptions
{
    public static Option<string?> Datasets() => new("--datasets")
    {
        Description = "Datasets folder (default: $CAUSALEVAL_DATASETS, ./datasets, or the copy next to the executable)",
    };
}
