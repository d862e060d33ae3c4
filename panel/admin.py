from django.contrib import admin

admin.site.site_header = "SMM panel administration"
admin.site.site_title = "SMM panel admin"
admin.site.index_title = "Run the panel"
