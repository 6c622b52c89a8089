"""Routes of the Pass numérique (back-office, under /gestion/pass/)."""

from django.urls import path

from .views import pass_numerique as views

urlpatterns = [
    path("gestion/pass/", views.stock, name="pass_stock"),
    path("gestion/pass/commandes/nouvelle/", views.commande_create, name="pass_commande_create"),
    path("gestion/pass/commandes/<uuid:uuid>/", views.commande_detail, name="pass_commande"),
    path("gestion/pass/commandes/<uuid:uuid>/carnets/", views.carnets_attribuer, name="pass_carnets_attribuer"),
    path("gestion/pass/carnets/<uuid:uuid>/remise/", views.carnet_remettre, name="pass_carnet_remettre"),
    path("gestion/pass/utilisation/", views.pass_utiliser, name="pass_utiliser"),
    path("gestion/pass/remboursement/", views.pass_rembourser, name="pass_rembourser"),
    path("gestion/pass/annulation/", views.pass_annuler, name="pass_annuler"),
]
