using WapBridge.Web.Components.Pages.Campaigns;

namespace WapBridge.Tests.Dashboard;

/// <summary>The recipient CSV reader and the column mapping of the new-campaign form.</summary>
[Trait("Category", "Unit")]
public sealed class CampaignCsvTests
{
    [Fact]
    public void Parses_quotes_doubled_quotes_separators_and_line_breaks_inside_quotes()
    {
        var text = "\uFEFFphone,name,note\r\n" +
                   "+255755000001,\"Mwamba, Asha\",\"She said \"\"hi\"\"\"\r\n" +
                   "\r\n" +
                   "0755000002 , Juma ,\"two\nlines\"\n" +
                   "0755000003,Neema,";
        var rows = CampaignCsv.Parse(text);

        Assert.Equal(4, rows.Count);
        Assert.Equal(["phone", "name", "note"], rows[0].Cells);
        Assert.Equal(["+255755000001", "Mwamba, Asha", "She said \"hi\""], rows[1].Cells);
        Assert.Equal(["0755000002", "Juma", "two\nlines"], rows[2].Cells);
        Assert.Equal(["0755000003", "Neema", ""], rows[3].Cells);
        // Line numbers of the file, blank line included, for error messages.
        Assert.Equal([1, 2, 4, 6], rows.Select(r => r.Line));
    }

    [Fact]
    public void Detects_semicolon_and_tab_separated_files()
    {
        Assert.Equal(["a", "b;c", "d"], CampaignCsv.Parse("a;\"b;c\";d")[0].Cells);
        Assert.Equal(["a", "b,c"], CampaignCsv.Parse("a\tb,c")[0].Cells);
        Assert.Equal(["a", "b"], CampaignCsv.Parse("a,b")[0].Cells);
    }

    [Fact]
    public void Pasted_numbers_are_one_a_line_and_blank_lines_are_dropped()
    {
        var rows = CampaignCsv.ParseLines("+255755000001\r\n\r\n 0755000002 \n0755000003, 0755000004");
        Assert.Equal(["+255755000001", "0755000002", "0755000003", "0755000004"], rows.Select(r => r.Cells[0]));
        Assert.Equal([1, 3, 4, 4], rows.Select(r => r.Line));
    }

    [Fact]
    public void Header_and_number_column_are_guessed_and_other_columns_become_variables()
    {
        var rows = CampaignCsv.Parse("Name,Mobile No,First City\nAsha,0755000001,Arusha\nJuma,+255755000002,Moshi\n");
        Assert.True(RecipientDraft.GuessHeader(rows, "TZ"));
        Assert.Equal(1, RecipientDraft.GuessNumberColumn(rows, hasHeader: true, "TZ"));
        Assert.Equal(["name", "mobile_no", "first_city"], RecipientDraft.ColumnNames(rows, hasHeader: true));

        var headerless = CampaignCsv.Parse("Asha,0755000001\nJuma,0755000002");
        Assert.False(RecipientDraft.GuessHeader(headerless, "TZ"));
        Assert.Equal(1, RecipientDraft.GuessNumberColumn(headerless, hasHeader: false, "TZ"));
        Assert.Equal(["column_1", "column_2"], RecipientDraft.ColumnNames(headerless, hasHeader: false));

        var draft = RecipientDraft.Build(rows, true, 1, "TZ", "Hi {{name}} from {{ first_city }}");
        Assert.Equal(2, draft.SendableCount);
        Assert.Equal("255755000001", draft.Recipients[0].Number);
        var previews = draft.Previews("Hi {{name}} from {{ first_city }}");
        Assert.Equal(["Hi Asha from Arusha", "Hi Juma from Moshi"], previews.Select(p => p.Text));

        var json = draft.ToJson(leaveOutMissing: true);
        Assert.Equal("""[{"phone_number":"0755000001","name":"Asha","first_city":"Arusha"},{"phone_number":"\u002B255755000002","name":"Juma","first_city":"Moshi"}]""",
            json.ToJsonString());
    }

    [Fact]
    public void The_preview_refuses_a_national_number_a_digit_short_and_drops_the_trunk_zero()
    {
        var draft = RecipientDraft.Build(CampaignCsv.ParseLines("075520010\n0755200100"), false, 0, "TZ", "Hello");

        var invalid = Assert.Single(draft.Invalid);
        Assert.Contains("too short for Tanzania (+255)", invalid.Error);
        Assert.Equal("255755200100", Assert.Single(draft.Recipients, r => r.Sendable).Number);
    }

    [Fact]
    public void Invalid_numbers_duplicates_and_rows_missing_a_variable_are_reported_with_their_line()
    {
        var rows = CampaignCsv.Parse("number,name\n0755000001,Asha\nabc,Juma\n0755000001,Asha again\n0755000004,\n12,Tiny\n");
        var draft = RecipientDraft.Build(rows, true, 0, "TZ", "Hello {{name}}");

        Assert.Equal(1, draft.SendableCount);
        var invalid = draft.Invalid.ToList();
        Assert.Equal([3, 6], invalid.Select(r => r.Line));
        Assert.Contains("letters", invalid[0].Error);
        Assert.Contains("short", invalid[1].Error);
        Assert.Equal([4], draft.Duplicates.Select(r => r.Line));
        var missing = Assert.Single(draft.MissingVariables);
        Assert.Equal(5, missing.Line);
        Assert.Equal(["name"], missing.Missing);

        // Invalid rows still go (the campaign counts them); a row missing a variable only when asked.
        Assert.Equal(4, draft.ToJson(leaveOutMissing: true).Count);
        Assert.Equal(5, draft.ToJson(leaveOutMissing: false).Count);
    }

    [Fact]
    public void Export_values_are_quoted_when_needed_and_formulas_are_defused()
    {
        Assert.Equal("plain", CampaignCsv.Escape("plain"));
        Assert.Equal("\"a,b\"", CampaignCsv.Escape("a,b"));
        Assert.Equal("\"say \"\"hi\"\"\"", CampaignCsv.Escape("say \"hi\""));
        Assert.Equal("+255755000001", CampaignCsv.Escape("+255755000001"));
        Assert.Equal("'=SUM(A1)", CampaignCsv.Escape("=SUM(A1)"));
        Assert.Equal("a,\"b\nc\",\r\n", CampaignCsv.Write([["a", "b\nc", null]]));
    }
}
