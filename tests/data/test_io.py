"""Reading tables: numbers written with commas, ids that look like missing values."""
import numpy as np
import pytest

from forecast.data.errors import DataError
from forecast.data.io import read_table

HEADER = "series_id,timestamp,value\n"


def _csv(tmp_path, text, name="d.csv"):
    (tmp_path / name).write_text(text)
    return tmp_path / name


def test_quoted_decimal_commas_are_decimals_when_the_whole_column_reads_so(tmp_path):
    """'8,3' can only be a decimal comma: so '10,038' in the same column is 10.038, never 10038 (issue 24, case 1)."""
    frame = read_table(_csv(tmp_path, HEADER + 'a,1,"10,038"\na,2,"8,3"\na,3,7\n'))
    assert frame["value"].tolist() == [10.038, 8.3, 7.0]


def test_quoted_thousands_separators_stay_thousands(tmp_path):
    frame = read_table(_csv(tmp_path, HEADER + 'a,1,"1,100.5"\na,2,"12,345"\na,3,"1,234,567"\na,4,9\n'))
    assert frame["value"].tolist() == [1100.5, 12345.0, 1234567.0, 9.0]


@pytest.mark.parametrize("values, message", [
    (['"10,038"', '"12,500"'], "column 'value': numbers such as '10,038' read as thousands (10038) or with a "
                               "decimal comma (10.038)"),
    (['"1,100.5"', '"8,3"'], "column 'value' mixes decimal commas ('8,3') with thousands separators or decimal "
                             "points ('1,100.5')"),
    (['1.5', '"8,3"'], "column 'value' mixes decimal commas ('8,3') with thousands separators or decimal points "
                       "('1.5')"),
])
def test_a_column_that_reads_both_ways_is_refused_naming_column_and_value(tmp_path, values, message):
    text = HEADER + "".join(f"a,{i},{v}\n" for i, v in enumerate(values))
    with pytest.raises(DataError, match="^" + message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        read_table(_csv(tmp_path, text))


def test_unquoted_decimal_commas_in_a_semicolon_file(tmp_path):
    frame = read_table(_csv(tmp_path, "series_id;timestamp;value\na;1;8,3\na;2;10,25\n"))
    assert frame["value"].tolist() == [8.3, 10.25]


def test_text_with_commas_is_left_as_text(tmp_path):
    frame = read_table(_csv(tmp_path, HEADER.replace("\n", ",note\n") + 'a,1,1,"x,y"\na,2,2,"3,5"\n'))
    assert frame["note"].tolist() == ["x,y", "3,5"]   # not all numbers: no rule applies


@pytest.mark.parametrize("sid", ["NA", "None", "null", "NaN", "n/a"])
def test_ids_that_spell_missing_values_are_series_names(tmp_path, sid):
    """Ids are text: "NA" is a series (issue 24, case 9); an empty id is still missing, and so is "NA" as a value."""
    frame = read_table(_csv(tmp_path, HEADER + f"{sid},1,1\n{sid},2,NA\nb,1,3\n"))
    assert frame["series_id"].tolist() == [sid, sid, "b"] and np.isnan(frame["value"].iloc[1])
    assert read_table(_csv(tmp_path, HEADER + ",1,1\n", "e.csv"))["series_id"].isna().all()
