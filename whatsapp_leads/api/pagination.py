"""Pages of the API's lists: 50 rows, ``?page_size=`` up to 200, so one request never loads a whole table.

DRF quietly ignores a ``page_size`` it cannot read; here it is a 400 naming it, like every other
malformed parameter (a size above 200 is still served as 200: asking for "as many as you give"
is not an error). ``?page=`` past the end, or no number, stays DRF's 404 "Invalid page.".
"""

from __future__ import annotations

import re
from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

DIGITS = re.compile(r"[0-9]+")


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param, "")
        if raw == "":
            return self.page_size
        digits = raw.lstrip("0") if DIGITS.fullmatch(raw) else ""
        if not digits:  # not a number, or zero
            raise ValidationError({self.page_size_query_param: [self.page_size_help()]})
        if len(digits) > len(str(self.max_page_size)):  # no int() of a thousand digits
            return self.max_page_size
        return min(int(digits), self.max_page_size)

    def page_size_help(self) -> str:
        return f"A whole number from 1 (more than {self.max_page_size} gives {self.max_page_size})."

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {**parameter["schema"], "minimum": 1}
                parameter["description"] = self.page_size_help()
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {**parameter["schema"], "minimum": 1}
        return parameters
