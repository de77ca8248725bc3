namespace CausalEval.Reporting.Statistics;

/// <summary>A point estimate with the lower and upper bounds of its confidence interval.</summary>
/// <remarks>NaN marks what cannot be estimated, e.g. from no observations at all.</remarks>
internal readonly record struct ConfidenceInterval(double Estimate, double Lower, double Upper)
{
    public static ConfidenceInterval Undefined { get; } = new(double.NaN, double.NaN, double.NaN);

    public double Width => Upper - Lower;

    public bool IsDefined => !double.IsNaN(Lower) && !double.IsNaN(Upper);

    public bool Contains(double value) => Lower <= value && value <= Upper;
}
