"""An error with figures reads in the reader's words on a page and stays English for the APIs."""

from django.utils import translation

from core.errors import InvalidTransition, error_display


def test_an_error_with_figures_is_english_for_the_api_and_vietnamese_on_a_page() -> None:
    exc = InvalidTransition("The delivered quantity is between 0 and %(base)s", base=1000)

    assert exc.message == "The delivered quantity is between 0 and 1000"
    with translation.override("vi"):
        assert error_display(exc) == "Số lượng đã chạy phải từ 0 đến 1000"
    with translation.override("en"):
        assert error_display(exc) == exc.message


def test_an_error_without_figures_reads_as_before() -> None:
    exc = InvalidTransition()

    assert exc.message == "This change is not possible in the current state"
    with translation.override("vi"):
        assert error_display(exc) != exc.message
