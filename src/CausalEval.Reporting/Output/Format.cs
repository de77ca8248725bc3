using System.Globalization;
using System.Text;
using CausalEval.Reporting.Statistics;
using CsvHelper;

namespace CausalEval.Reporting.Output;

/// <summary>How numbers look in the report's tables (Markdown, HTML) and CSV files.</summary>
internal static class Format
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public const string Missing = "—";

    public static string Score(double? value) => value is { } v && double.IsFinite(v) ? v.ToString("0.000", Invariant) : Missing;

    public static string Interval(ConfidenceInterval ci)
        => double.IsFinite(ci.Estimate) ? $"{Score(ci.Estimate)} [{Score(ci.Lower)}, {Score(ci.Upper)}]" : Missing;

    public static string SignedInterval(ConfidenceInterval ci)
        => double.IsFinite(ci.Estimate) ? $"{Signed(ci.Estimate)} [{Signed(ci.Lower)}, {Signed(ci.Upper)}]" : Missing;

    public static string Signed(double value) => double.IsFinite(value) ? value.ToString("+0.000;−0.000;0.000", Invariant) : Missing;

    public static string Percent(double? value) => value is { } v && double.IsFinite(v) ? (100 * v).ToString("0.0", Invariant) + "%" : Missing;

    public static string Count(long value) => value.ToString("N0", Invariant);

    public static string Tokens(long input, long output) => input == 0 && output == 0 ? "0" : $"{Compact(input)} / {Compact(output)}";

    public static string Cost(double value) => "$" + value.ToString(value >= 100 ? "0" : value >= 1 ? "0.00" : "0.0000", Invariant);

    public static string Latency(double? p50, double? p95)
        => p50 is { } a && p95 is { } b ? $"{Milliseconds(a)} / {Milliseconds(b)}" : Missing;

    public static string Milliseconds(double ms) => ms >= 1000 ? (ms / 1000).ToString("0.00", Invariant) + " s" : ms.ToString(ms >= 100 ? "0" : ms >= 1 ? "0.0" : "0.000", Invariant) + " ms";

    public static string PValue(double p) => double.IsNaN(p) ? Missing : p == 0 ? "<1e-300" : p < 0.001 ? p.ToString("0.0e0", Invariant) : p.ToString("0.000", Invariant);

    public static string Compact(long value) => value switch
    {
        >= 10_000_000 => (value / 1e6).ToString("0", Invariant) + "M",
        >= 1_000_000 => (value / 1e6).ToString("0.0", Invariant) + "M",
        >= 10_000 => (value / 1e3).ToString("0", Invariant) + "k",
        >= 1_000 => (value / 1e3).ToString("0.0", Invariant) + "k",
        _ => value.ToString(Invariant),
    };

    /// <summary>CSV numbers: rounded to 6 decimals, invariant culture, empty when missing.</summary>
    public static string Csv(double? value) => value is { } v && double.IsFinite(v) ? Math.Round(v, 6).ToString("0.######", Invariant) : "";

    /// <summary>Markdown cell text: pipes and newlines would break the table.</summary>
    public static string Cell(string? text) => text is null ? Missing : text.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");

    /// <summary>
    /// A CSV cell that a spreadsheet will not run as a formula: text beginning with <c>=</c>, <c>+</c>, <c>@</c>, a tab, a
    /// carriage return, or a <c>-</c> that does not start a number, gets a leading apostrophe (OWASP's advice); numbers,
    /// negative ones included, are left as they are.
    /// </summary>
    public static string SafeCell(string field)
    {
        if (field.Length == 0)
        {
            return field;
        }
        var dangerous = field[0] switch
        {
            '=' or '+' or '@' or '\t' or '\r' => true,
            '-' => !double.TryParse(field, NumberStyles.Float, Invariant, out _),
            _ => false,
        };
        return dangerous ? "'" + field : field;
    }

    /// <summary>Writes rows as RFC 4180 CSV (CsvHelper), LF line ends, invariant culture; every cell made safe (<see cref="SafeCell"/>).</summary>
    public static string ToCsv(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        var text = new StringWriter(Invariant) { NewLine = "\n" };
        using (var csv = CsvWriter.Create(text, new CsvWriterOptions { NewLine = "\n", FormatProvider = Invariant }, leaveOpen: true))
        {
            foreach (var name in header)
            {
                csv.WriteField(SafeCell(name));
            }
            csv.EndRecord();
            foreach (var row in rows)
            {
                foreach (var field in row)
                {
                    csv.WriteField(SafeCell(field));
                }
                csv.EndRecord();
            }
        }
        return text.ToString();
    }

    public static void MarkdownTable(StringBuilder text, IReadOnlyList<string> header, IReadOnlyList<bool> rightAligned, IEnumerable<IReadOnlyList<string>> rows)
    {
        text.Append("| ").AppendJoin(" | ", header).Append(" |\n|");
        foreach (var right in rightAligned)
        {
            text.Append(right ? "---:|" : "---|");
        }
        text.Append('\n');
        foreach (var row in rows)
        {
            text.Append("| ").AppendJoin(" | ", row.Select(Cell)).Append(" |\n");
        }
    }
}
