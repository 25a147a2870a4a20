"""HTML pages for annotators, reviewers and engineers; thin, data comes from selectors."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .selectors.projects import projects_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "annotation/home.html", {"projects": projects_for(request.user)})
